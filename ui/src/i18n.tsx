// Russian and English: each page keeps its own strings next to it (defineText), chosen per user, first from
// the browser. Dates and numbers follow the user's locale and the browser's time zone.
import { createContext, type ComponentChildren } from 'preact';
import { useContext, useMemo } from 'preact/hooks';

export type Locale = 'ru' | 'en';
export const LOCALES: readonly Locale[] = ['ru', 'en'];

export function browserLocale(languages: readonly string[] = navigator.languages ?? [navigator.language]): Locale {
  for (const l of languages) {
    const base = l.toLowerCase().split('-')[0];
    if (base === 'ru' || base === 'kk' || base === 'uz' || base === 'be' || base === 'uk') return 'ru';
    if (base === 'en') return 'en';
  }
  return 'ru';
}

interface LocaleState {
  locale: Locale;
  timeZone: string;
  setLocale: (l: Locale) => void;
}

const LocaleContext = createContext<LocaleState>({ locale: 'ru', timeZone: 'UTC', setLocale: () => {} });

export function LocaleProvider(props: LocaleState & { children: ComponentChildren }) {
  const value = useMemo(() => ({ locale: props.locale, timeZone: props.timeZone, setLocale: props.setLocale }), [props.locale, props.timeZone, props.setLocale]);
  return <LocaleContext.Provider value={value}>{props.children}</LocaleContext.Provider>;
}

export function useLocale(): LocaleState {
  return useContext(LocaleContext);
}

export type Texts<K extends string> = { en: Record<K, string>; ru: Record<K, string> };

/**
 * A page's strings: English first; the Russian has every English key, plus the plural forms Russian has and
 * English has not (`_few`, `_many`).
 */
export function defineText<K extends string>(en: Record<K, string>, ru: Record<NoInfer<K>, string> & Record<string, string>): Texts<K> {
  return { en, ru };
}

export type Translate<K extends string> = {
  (key: K, params?: Record<string, string | number>): string;
  /** The plural form for n: keys `<key>_one`, `_few`, `_many`, `_other` (Russian) or `_one`, `_other` (English). */
  n: (key: string, count: number, params?: Record<string, string | number>) => string;
};

function fill(template: string, params: Record<string, string | number> | undefined, locale: Locale): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined) return `{${name}}`;
    return typeof v === 'number' ? new Intl.NumberFormat(locale).format(v) : v;
  });
}

export function translate<K extends string>(texts: Texts<K>, locale: Locale): Translate<K> {
  const dict = texts[locale] as Record<string, string>;
  const plurals = new Intl.PluralRules(locale);
  const t = ((key: K, params?: Record<string, string | number>) => fill(dict[key] ?? key, params, locale)) as Translate<K>;
  t.n = (key, count, params) => {
    const form = dict[`${key}_${plurals.select(count)}`] ?? dict[`${key}_other`] ?? key;
    return fill(form, { n: count, ...params }, locale);
  };
  return t;
}

export function useText<K extends string>(texts: Texts<K>): Translate<K> {
  const { locale } = useLocale();
  return useMemo(() => translate(texts, locale), [texts, locale]);
}

export interface Formats {
  dateTime: (iso: string | null | undefined) => string;
  date: (iso: string | null | undefined) => string;
  time: (iso: string | null | undefined) => string;
  number: (n: number) => string;
  percent: (share: number) => string;
  /** "in 2 h", "5 min ago": relative to now. */
  relative: (iso: string | null | undefined, now?: number) => string;
  /** A span of milliseconds: "3 h 20 min". */
  duration: (ms: number | null | undefined) => string;
}

export function formatsFor(locale: Locale, timeZone: string): Formats {
  const dt = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone });
  const d = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone });
  const tm = new Intl.DateTimeFormat(locale, { timeStyle: 'short', timeZone });
  const num = new Intl.NumberFormat(locale);
  const pct = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 });
  const rel = new Intl.RelativeTimeFormat(locale, { numeric: 'auto', style: 'short' });
  const unit = (n: number, u: 'hour' | 'minute' | 'day' | 'second') =>
    new Intl.NumberFormat(locale, { style: 'unit', unit: u, unitDisplay: 'short' }).format(n);
  const safe = (f: (date: Date) => string) => (iso: string | null | undefined) => (iso ? f(new Date(iso)) : '—');
  return {
    dateTime: safe((x) => dt.format(x)),
    date: safe((x) => d.format(x)),
    time: safe((x) => tm.format(x)),
    number: (n) => num.format(n),
    percent: (s) => pct.format(s),
    relative: (iso, now = Date.now()) => {
      if (!iso) return '—';
      const secs = Math.round((new Date(iso).getTime() - now) / 1000);
      const abs = Math.abs(secs);
      if (abs < 60) return rel.format(secs, 'second');
      if (abs < 3600) return rel.format(Math.round(secs / 60), 'minute');
      if (abs < 86_400) return rel.format(Math.round(secs / 3600), 'hour');
      return rel.format(Math.round(secs / 86_400), 'day');
    },
    duration: (ms) => {
      if (ms === null || ms === undefined) return '—';
      const mins = Math.round(ms / 60_000);
      if (mins < 60) return unit(mins, 'minute');
      const h = Math.floor(mins / 60);
      if (h < 48) return mins % 60 ? `${unit(h, 'hour')} ${unit(mins % 60, 'minute')}` : unit(h, 'hour');
      return unit(Math.round(h / 24), 'day');
    },
  };
}

export function useFormats(): Formats {
  const { locale, timeZone } = useLocale();
  return useMemo(() => formatsFor(locale, timeZone), [locale, timeZone]);
}
