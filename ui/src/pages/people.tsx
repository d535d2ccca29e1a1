import { useEffect, useState } from 'preact/hooks';
import { api, problemText, type Schemas } from '../api.ts';
import { defineText, useFormats, useText, type Translate } from '../i18n.tsx';
import { useSession, type Role } from '../session.ts';
import './people.css';

const TEXT = defineText(
  {
    title: 'People',
    adminsOnly: 'Only admins manage people.',
    loading: 'Loading…',
    loadFailed: 'Could not load the people.',
    nobody: 'Nobody signs in yet.',
    list: 'Everyone who signs in',
    email: 'Email',
    role: 'Role',
    language: 'Language',
    created: 'Added',
    lastSignIn: 'Last sign-in',
    status: 'Status',
    actions: 'Actions',
    never: 'never',
    browser: 'from the browser',
    active: 'active',
    disabled: 'disabled since {when}',
    you: 'you',
    byCli: 'from the command line',
    byAdmin: 'by {who}',
    roleOf: 'Role of {email}',
    disable: 'Disable',
    enable: 'Let back in',
    confirmDisable: 'Disable {email}? They are signed out at once and cannot sign in until you let them back in.',
    selfNote: 'You cannot change your own role or disable yourself: ask another admin.',
    changed: 'Saved.',
    changeFailed: 'Could not save the change.',
    role_admin: 'admin',
    role_agent: 'agent',
    role_viewer: 'viewer (read only)',
    roleHelp: 'Admins manage people; agents work the inbox; viewers only look.',

    invite: 'Invite someone',
    inviteEmail: 'Their email',
    inviteRole: 'Role',
    inviteLanguage: 'Language of the interface',
    sendInvite: 'Invite',
    inviting: 'Inviting…',
    inviteFailed: 'Could not invite them.',
    invited: '{email} can now sign in with this password:',
    passwordNote: 'It is shown only this once and is not stored. Pass it on safely, in person or through a password manager, not in a shared chat or an email.',
    copy: 'Copy',
    copied: 'Copied',
    done: 'Done, I have passed it on',
    lang_ru: 'Русский',
    lang_en: 'English',
  },
  {
    title: 'Люди',
    adminsOnly: 'Управлять людьми могут только администраторы.',
    loading: 'Загрузка…',
    loadFailed: 'Не удалось загрузить список людей.',
    nobody: 'Пока никто не входит.',
    list: 'Все, кто входит в earshot',
    email: 'Почта',
    role: 'Роль',
    language: 'Язык',
    created: 'Добавлен(а)',
    lastSignIn: 'Последний вход',
    status: 'Статус',
    actions: 'Действия',
    never: 'ни разу',
    browser: 'как в браузере',
    active: 'активен(а)',
    disabled: 'отключён(а) с {when}',
    you: 'вы',
    byCli: 'из командной строки',
    byAdmin: 'пригласил(а) {who}',
    roleOf: 'Роль: {email}',
    disable: 'Отключить',
    enable: 'Вернуть доступ',
    confirmDisable: 'Отключить {email}? Сеансы завершатся сразу, а войти снова можно будет, только когда вы вернёте доступ.',
    selfNote: 'Свою роль поменять и себя отключить нельзя — попросите другого администратора.',
    changed: 'Сохранено.',
    changeFailed: 'Не удалось сохранить изменение.',
    role_admin: 'администратор',
    role_agent: 'агент',
    role_viewer: 'наблюдатель (только чтение)',
    roleHelp: 'Администраторы управляют людьми, агенты работают с входящими, наблюдатели только смотрят.',

    invite: 'Пригласить',
    inviteEmail: 'Почта',
    inviteRole: 'Роль',
    inviteLanguage: 'Язык интерфейса',
    sendInvite: 'Пригласить',
    inviting: 'Приглашаем…',
    inviteFailed: 'Не удалось пригласить.',
    invited: 'Теперь {email} может войти с этим паролем:',
    passwordNote: 'Он показан только сейчас и нигде не хранится. Передайте его надёжно — лично или через менеджер паролей, но не в общем чате и не по почте.',
    copy: 'Скопировать',
    copied: 'Скопировано',
    done: 'Готово, пароль передан',
    lang_ru: 'Русский',
    lang_en: 'English',
  },
);

type T = Translate<keyof (typeof TEXT)['en']>;
type User = Schemas['User'];
const ROLES: readonly Role[] = ['admin', 'agent', 'viewer'];

export function PeoplePage() {
  const t = useText(TEXT);
  const session = useSession();
  if (session.role !== 'admin') {
    return (
      <main class="page people">
        <h1>{t('title')}</h1>
        <p>{t('adminsOnly')}</p>
      </main>
    );
  }
  return <People t={t} me={session.email} />;
}

function People(props: { t: T; me: string }) {
  const { t, me } = props;
  const f = useFormats();
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<{ id: number; text: string; failed: boolean } | null>(null);
  const [busy, setBusy] = useState<number | null>(null);

  useEffect(() => {
    let live = true;
    void api.GET('/api/v1/users').then(({ data, error: problem }) => {
      if (!live) return;
      if (data) setUsers(data.data);
      else setError(problemText(problem, t('loadFailed')));
    });
    return () => {
      live = false;
    };
  }, []);

  function replace(user: User) {
    setUsers((list) => (list === null ? [user] : list.some((u) => u.id === user.id) ? list.map((u) => (u.id === user.id ? user : u)) : [...list, user]));
  }

  async function change(user: User, body: { role?: Role; disabled?: boolean }) {
    setBusy(user.id);
    setNote(null);
    const { data, error: problem } = await api.PATCH('/api/v1/users/{id}', { params: { path: { id: user.id } }, body });
    setBusy(null);
    if (data) {
      replace(data);
      setNote({ id: user.id, text: t('changed'), failed: false });
    } else setNote({ id: user.id, text: problemText(problem, t('changeFailed')), failed: true });
  }

  return (
    <main class="page people">
      <h1>{t('title')}</h1>
      <InviteForm t={t} onInvited={replace} />
      <section aria-labelledby="people-list">
        <h2 id="people-list">{t('list')}</h2>
        <p class="muted">{t('roleHelp')}</p>
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : users === null ? (
          <p class="muted">{t('loading')}</p>
        ) : users.length === 0 ? (
          <p class="muted">{t('nobody')}</p>
        ) : (
          <div class="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('email')}</th>
                  <th scope="col">{t('role')}</th>
                  <th scope="col">{t('language')}</th>
                  <th scope="col">{t('created')}</th>
                  <th scope="col">{t('lastSignIn')}</th>
                  <th scope="col">{t('status')}</th>
                  <th scope="col">{t('actions')}</th>
                </tr>
              </thead>
              <tbody>
                {[...users]
                  .sort((a, b) => Number(a.disabled_at !== null) - Number(b.disabled_at !== null) || a.email.localeCompare(b.email))
                  .map((u) => {
                    const self = u.email.toLowerCase() === me.toLowerCase();
                    return (
                      <tr key={u.id} class={u.disabled_at ? 'is-disabled' : undefined}>
                        <th scope="row">
                          {u.email}
                          {self && <span class="chip">{t('you')}</span>}
                        </th>
                        <td>
                          {self ? (
                            t(`role_${u.role}`)
                          ) : (
                            <select
                              aria-label={t('roleOf', { email: u.email })}
                              value={u.role}
                              disabled={busy === u.id}
                              onChange={(e) => void change(u, { role: e.currentTarget.value as Role })}
                            >
                              {ROLES.map((r) => (
                                <option key={r} value={r}>
                                  {t(`role_${r}`)}
                                </option>
                              ))}
                            </select>
                          )}
                        </td>
                        <td>{u.locale ? t(`lang_${u.locale}`) : <span class="muted">{t('browser')}</span>}</td>
                        <td>
                          {f.date(u.created_at)}
                          <div class="muted small">{u.created_by === 'cli' ? t('byCli') : t('byAdmin', { who: u.created_by.replace(/^user:/, '') })}</div>
                        </td>
                        <td>
                          {u.last_login_at ? (
                            <time dateTime={u.last_login_at} title={f.dateTime(u.last_login_at)}>
                              {f.relative(u.last_login_at)}
                            </time>
                          ) : (
                            <span class="muted">{t('never')}</span>
                          )}
                        </td>
                        <td>
                          {u.disabled_at ? (
                            <span class="chip negative">{t('disabled', { when: f.date(u.disabled_at) })}</span>
                          ) : (
                            <span class="chip positive">{t('active')}</span>
                          )}
                        </td>
                        <td>
                          {self ? (
                            <span class="muted">—</span>
                          ) : u.disabled_at ? (
                            <button type="button" class="small" disabled={busy === u.id} onClick={() => void change(u, { disabled: false })}>
                              {t('enable')}
                            </button>
                          ) : (
                            <button
                              type="button"
                              class="small"
                              disabled={busy === u.id}
                              onClick={() => {
                                if (window.confirm(t('confirmDisable', { email: u.email }))) void change(u, { disabled: true });
                              }}
                            >
                              {t('disable')}
                            </button>
                          )}
                          {note?.id === u.id && (
                            <div class={note.failed ? 'error small' : 'muted small'} role={note.failed ? 'alert' : 'status'}>
                              {note.text}
                            </div>
                          )}
                        </td>
                      </tr>
                    );
                  })}
              </tbody>
            </table>
            <p class="muted small">{t('selfNote')}</p>
          </div>
        )}
      </section>
    </main>
  );
}

function InviteForm(props: { t: T; onInvited: (user: User) => void }) {
  const { t } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [shown, setShown] = useState<{ email: string; password: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('agent');
  const [locale, setLocale] = useState<'' | 'ru' | 'en'>('');

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const { data, error: problem } = await api.POST('/api/v1/users', {
      body: { email: email.trim(), role, ...(locale ? { locale } : {}) },
    });
    setBusy(false);
    if (!data) return setError(problemText(problem, t('inviteFailed')));
    props.onInvited(data.user);
    setShown({ email: data.user.email, password: data.password });
    setCopied(false);
    setEmail('');
    setRole('agent');
    setLocale('');
  }

  async function copy() {
    if (!shown) return;
    try {
      await navigator.clipboard.writeText(shown.password);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  }

  return (
    <section aria-labelledby="people-invite" class="invite">
      <h2 id="people-invite">{t('invite')}</h2>
      {shown && (
        <div class="password-once" role="status">
          <p>{t('invited', { email: shown.email })}</p>
          <p class="password-line">
            <code>{shown.password}</code>
            <button type="button" class="small" onClick={copy}>
              {copied ? t('copied') : t('copy')}
            </button>
          </p>
          <p class="small">{t('passwordNote')}</p>
          <button type="button" onClick={() => setShown(null)}>
            {t('done')}
          </button>
        </div>
      )}
      <form class="invite-form" onSubmit={submit}>
        <label>
          {t('inviteEmail')}
          <input name="email" type="email" autocomplete="off" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label>
          {t('inviteRole')}
          <select name="role" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {t(`role_${r}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('inviteLanguage')}
          <select name="locale" value={locale} onChange={(e) => setLocale(e.currentTarget.value as '' | 'ru' | 'en')}>
            <option value="">{t('browser')}</option>
            <option value="ru" lang="ru">
              {t('lang_ru')}
            </option>
            <option value="en" lang="en">
              {t('lang_en')}
            </option>
          </select>
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t('inviting') : t('sendInvite')}
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
