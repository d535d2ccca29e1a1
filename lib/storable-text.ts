/**
 * What text PostgreSQL can keep. A text column refuses U+0000 (error 22021), and UTF-8 has no form for a lone
 * surrogate (half of a UTF-16 pair), so neither may reach the store. The edges that take text in (the API,
 * the config file) refuse it with this message, naming where it was.
 */

// With the u flag a surrogate pair is one code point: \p{Cs} finds only a lone half.
const LONE_SURROGATE = /\p{Cs}/u;

/** Why the store could not keep this text, e.g. "contains a NUL character (at offset 3)"; null when it can. */
export function unstorableText(text: string): string | null {
  const nul = text.indexOf('\0');
  if (nul >= 0) return `contains a NUL character (at offset ${nul})`;
  if (LONE_SURROGATE.test(text)) return 'is not valid Unicode (a lone surrogate, which UTF-8 cannot hold)';
  return null;
}

export type TextPath = (string | number)[];

/** A path as a chain of links to the parent: extending it costs nothing, however deep the value. */
interface PathLink {
  parent: PathLink | null;
  segment: string | number;
}

function pathOf(link: PathLink | null): TextPath {
  const path: TextPath = [];
  for (let at = link; at !== null; at = at.parent) path.push(at.segment);
  return path.reverse();
}

/**
 * Every string and object key in a parsed value that the store could not keep, with its
 * path (keys and array indices). Walks without recursion: a deeply nested value (a JSON body of 100,000
 * arrays) must not overflow the stack here.
 */
export function findUnstorableText(value: unknown): { path: TextPath; message: string }[] {
  const found: { path: TextPath; message: string }[] = [];
  const pending: [at: PathLink | null, value: unknown][] = [[null, value]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [at, item] = next;
    if (typeof item === 'string') {
      const message = unstorableText(item);
      if (message !== null) found.push({ path: pathOf(at), message });
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) pending.push([{ parent: at, segment: i }, item[i]]);
    } else if (typeof item === 'object' && item !== null) {
      const entries = Object.entries(item);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        const link = { parent: at, segment: key };
        const keyMessage = unstorableText(key);
        if (keyMessage !== null) found.push({ path: pathOf(link), message: `the name ${keyMessage}` });
        else pending.push([link, child]);
      }
    }
  }
  return found;
}

/**
 * The text with what the store cannot keep taken out: NULs dropped, lone surrogates made U+FFFD. For text from
 * outside that is worth keeping anyway (a crawled post), where refusing it is not an option.
 */
export function storableText(text: string): string {
  if (unstorableText(text) === null) return text;
  return text.replaceAll('\0', '').replace(/\p{Cs}/gu, '\uFFFD');
}

/**
 * A JSON-like value (a crawled mention draft) with `storableText` applied to every string and key: the value
 * itself when nothing needed it, else a copy. It recurses, so it is for values of a known, shallow shape.
 */
export function storableValue<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (Array.isArray(value)) {
    const items = value.map((item: unknown) => storableValue(item));
    return items.every((item, i) => item === value[i]) ? value : (items as T);
  }
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    let changed = false;
    const entries = Object.entries(value).map(([key, item]) => {
      const cleanKey = storableText(key);
      const cleanItem = storableValue(item);
      if (cleanKey !== key || cleanItem !== item) changed = true;
      return [cleanKey, cleanItem] as const;
    });
    return changed ? (Object.fromEntries(entries) as T) : value;
  }
  return value;
}
