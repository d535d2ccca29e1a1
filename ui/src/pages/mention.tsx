import { MentionDetailView } from '../components/mention-detail.tsx';
import { Link } from '../components/link.tsx';
import { defineText, useText } from '../i18n.tsx';
import './inbox.css';

const TEXT = defineText({ back: '← Back to the inbox', title: 'Mention and its story' }, { back: '← К входящим', title: 'Упоминание и его история' });

/** One mention and its story, on a page of its own (a link to share, or `o` from the inbox). */
export function MentionPage(props: { id: string }) {
  const t = useText(TEXT);
  return (
    <main class="page">
      <div class="story">
        <p>
          <Link href="/" onClick={(e) => {
            if (history.length > 1 && document.referrer === '' ) {
              e.preventDefault();
              history.back();
            }
          }}>{t('back')}</Link>
        </p>
        <h1 class="visually-hidden">{t('title')}</h1>
        <MentionDetailView id={props.id} full />
      </div>
    </main>
  );
}
