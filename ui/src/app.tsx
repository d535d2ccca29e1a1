import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, setCsrfToken, whenSignedOut } from './api.ts';
import { IncidentBanner } from './components/incident-banner.tsx';
import { LanguageSwitch } from './components/language-switch.tsx';
import { Link } from './components/link.tsx';
import { browserLocale, defineText, LocaleProvider, useText, type Locale } from './i18n.tsx';
import { DashboardPage } from './pages/dashboard.tsx';
import { InboxPage } from './pages/inbox.tsx';
import { LoginPage } from './pages/login.tsx';
import { MentionPage } from './pages/mention.tsx';
import { PeoplePage } from './pages/people.tsx';
import { SourcesPage } from './pages/sources.tsx';
import { matchPath, navigate, useLocation } from './router.ts';
import { SessionContext, type SessionState } from './session.ts';
import { useLiveChanges } from './live.ts';

const TEXT = defineText(
  {
    inbox: 'Inbox',
    dashboard: 'Dashboard',
    sources: 'Sources',
    people: 'People',
    signOut: 'Sign out',
    nav: 'Sections',
    notFound: 'There is no such page.',
    loading: 'Loading…',
    role_admin: 'admin',
    role_agent: 'agent',
    role_viewer: 'viewer (read only)',
  },
  {
    inbox: 'Входящие',
    dashboard: 'Обзор',
    sources: 'Источники',
    people: 'Люди',
    signOut: 'Выйти',
    nav: 'Разделы',
    notFound: 'Такой страницы нет.',
    loading: 'Загрузка…',
    role_admin: 'администратор',
    role_agent: 'агент',
    role_viewer: 'наблюдатель (только чтение)',
  },
);

const STORED_LOCALE = 'earshot.locale';
const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

type Phase = { kind: 'loading' } | { kind: 'signed-out' } | { kind: 'signed-in'; session: SessionState };

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });
  const [locale, setLocaleState] = useState<Locale>(() => (localStorage.getItem(STORED_LOCALE) as Locale | null) ?? browserLocale());

  const readSession = useCallback(async () => {
    const { data } = await api.GET('/api/v1/session');
    if (!data) {
      setCsrfToken(null);
      setPhase({ kind: 'signed-out' });
      return;
    }
    setCsrfToken(data.csrf_token);
    if (data.user.locale) setLocaleState(data.user.locale);
    setPhase({ kind: 'signed-in', session: { email: data.user.email, role: data.user.role, canWrite: data.user.role !== 'viewer' } });
  }, []);

  useEffect(() => {
    whenSignedOut(() => setPhase({ kind: 'signed-out' }));
    void readSession();
  }, [readSession]);

  const signedIn = phase.kind === 'signed-in';
  const setLocale = useCallback(
    (l: Locale) => {
      setLocaleState(l);
      localStorage.setItem(STORED_LOCALE, l);
      if (signedIn) void api.PATCH('/api/v1/session', { body: { locale: l } });
    },
    [signedIn],
  );

  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);

  return (
    <LocaleProvider locale={locale} timeZone={timeZone} setLocale={setLocale}>
      {phase.kind === 'loading' ? null : phase.kind === 'signed-out' ? (
        <LoginPage onSignedIn={readSession} />
      ) : (
        <SessionContext.Provider value={phase.session}>
          <Shell
            onSignOut={async () => {
              await api.DELETE('/api/v1/session');
              setCsrfToken(null);
              setPhase({ kind: 'signed-out' });
              navigate('/');
            }}
          />
        </SessionContext.Provider>
      )}
    </LocaleProvider>
  );
}

function Shell(props: { onSignOut: () => void }) {
  const t = useText(TEXT);
  const loc = useLocation();
  const live = useLiveChanges();
  return (
    <SessionContext.Consumer>
      {(session) => (
        <div class="shell">
          <header class="topbar">
            <Link href="/" class="brand-mark" aria-label="earshot">
              earshot
            </Link>
            <nav aria-label={t('nav')}>
              <NavLink href="/" current={loc.path === '/' || loc.path === '/inbox' || loc.path.startsWith('/mentions/')} label={t('inbox')} />
              <NavLink href="/dashboard" current={loc.path === '/dashboard'} label={t('dashboard')} />
              <NavLink href="/sources" current={loc.path === '/sources'} label={t('sources')} />
              {session.role === 'admin' && <NavLink href="/people" current={loc.path === '/people'} label={t('people')} />}
            </nav>
            <div class="who">
              <LanguageSwitch />
              <span class="muted small" title={t(`role_${session.role}`)}>
                {session.email} · {t(`role_${session.role}`)}
              </span>
              <button type="button" class="link" onClick={props.onSignOut}>
                {t('signOut')}
              </button>
            </div>
          </header>
          <IncidentBanner refreshKey={live.ticketSeq ? Number(live.ticketSeq) : 0} />
          <Page path={loc.path} query={loc.query} live={live} notFound={t('notFound')} />
        </div>
      )}
    </SessionContext.Consumer>
  );
}

function NavLink(props: { href: string; current: boolean; label: string }) {
  return (
    <Link href={props.href} aria-current={props.current ? 'page' : undefined}>
      {props.label}
    </Link>
  );
}

function Page(props: { path: string; query: URLSearchParams; live: ReturnType<typeof useLiveChanges>; notFound: string }) {
  const { path, query } = props;
  if (path === '/' || path === '/inbox') return <InboxPage query={query} live={props.live} />;
  const mention = matchPath('/mentions/:id', path);
  if (mention) return <MentionPage id={mention.id!} />;
  if (path === '/dashboard') return <DashboardPage />;
  if (path === '/sources') return <SourcesPage />;
  if (path === '/people') return <PeoplePage />;
  return (
    <main class="page">
      <p>{props.notFound}</p>
    </main>
  );
}
