// Letters that keyboards and scripts spell several ways, folded into one: Kazakh and Uzbek Cyrillic letters
// typed on a Russian layout (маган for маған), Kazakh Latin of the 2018 and 2021 alphabets, ё, and the
// Uzbek o'/g' written with any apostrophe (or none).
const FOLD: Record<string, string> = {
  ё: 'е', қ: 'к', ғ: 'г', ң: 'н', ү: 'у', ұ: 'у', ө: 'о', һ: 'х', і: 'и', ә: 'а', ў: 'у', ҳ: 'х',
  ı: 'i', ş: 'sh', ç: 'ch', ğ: 'g', ǵ: 'g', ñ: 'n', ń: 'n', ü: 'u', ū: 'u', ú: 'u', ö: 'o', ó: 'o',
  ä: 'a', á: 'a', ý: 'y',
};
const FOLDED = new RegExp(`[og]['‘’ʻʼ\`´]|['‘’ʻʼ\`´]|[${Object.keys(FOLD).join('')}]`, 'g');

/** Folds lower-cased text so every spelling of a Kazakh or Uzbek word (and ё/е) compares equal. */
export function foldLetters(lower: string): string {
  return lower.replace(FOLDED, (m) => (m.length === 2 ? m[0]! : (FOLD[m] ?? "'")));
}
