import { LOCALES, useLocale } from '../i18n.tsx';

const NAMES = { ru: 'Русский', en: 'English' } as const;

export function LanguageSwitch() {
  const { locale, setLocale } = useLocale();
  return (
    <div class="lang-switch" role="group" aria-label={locale === 'ru' ? 'Язык' : 'Language'}>
      {LOCALES.map((l) => (
        <button type="button" key={l} lang={l} aria-pressed={l === locale} onClick={() => setLocale(l)}>
          {NAMES[l]}
        </button>
      ))}
    </div>
  );
}
