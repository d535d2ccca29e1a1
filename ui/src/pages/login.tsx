import { useState } from 'preact/hooks';
import { api, problemText } from '../api.ts';
import { defineText, useLocale, useText } from '../i18n.tsx';
import { LanguageSwitch } from '../components/language-switch.tsx';

const TEXT = defineText(
  {
    title: 'Sign in to earshot',
    email: 'Email',
    password: 'Password',
    submit: 'Sign in',
    busy: 'Signing in…',
    failed: 'Could not sign in.',
    hint: 'An admin creates your account: earshot user create --email you@example.com --role agent',
  },
  {
    title: 'Вход в earshot',
    email: 'Почта',
    password: 'Пароль',
    submit: 'Войти',
    busy: 'Входим…',
    failed: 'Не удалось войти.',
    hint: 'Учётную запись создаёт администратор: earshot user create --email you@example.com --role agent',
  },
);

/** A plain form: an email and a password. */
export function LoginPage(props: { onSignedIn: () => void }) {
  const t = useText(TEXT);
  const { locale } = useLocale();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    const { error: problem } = await api.POST('/api/v1/session', {
      body: { email: String(form.get('email') ?? ''), password: String(form.get('password') ?? '') },
    });
    setBusy(false);
    if (problem) setError(problemText(problem, t('failed')));
    else props.onSignedIn();
  }

  return (
    <main class="login" lang={locale}>
      <form class="login-form" method="post" action="/api/v1/session" onSubmit={submit}>
        <h1>{t('title')}</h1>
        <label>
          {t('email')}
          <input name="email" type="email" autocomplete="username" required autofocus />
        </label>
        <label>
          {t('password')}
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t('busy') : t('submit')}
        </button>
        <p class="muted small">{t('hint')}</p>
        <LanguageSwitch />
      </form>
    </main>
  );
}
