import { useEffect, useRef } from 'preact/hooks';
import { defineText, useText } from '../i18n.tsx';

const TEXT = defineText(
  {
    title: 'Keyboard shortcuts',
    close: 'Close',
    next: 'Next item',
    previous: 'Previous item',
    open: 'Open the story view',
    select: 'Select or unselect the item',
    selectAll: 'Select all loaded items',
    solve: 'Solve the ticket',
    assign: 'Take it (assign to me)',
    notRelevant: 'Not relevant: needs no reply',
    needsReply: 'Needs a reply',
    sentiment: 'Sentiment: negative, neutral, positive, mixed',
    search: 'Search',
    help: 'Show or hide this list',
    escape: 'Clear the selection, leave a field',
    many: 'With items selected, the action applies to all of them.',
  },
  {
    title: 'Горячие клавиши',
    close: 'Закрыть',
    next: 'Следующий элемент',
    previous: 'Предыдущий элемент',
    open: 'Открыть всю историю',
    select: 'Выбрать или снять выбор',
    selectAll: 'Выбрать все загруженные',
    solve: 'Решить обращение',
    assign: 'Взять себе',
    notRelevant: 'Не по делу: ответ не нужен',
    needsReply: 'Нужен ответ',
    sentiment: 'Тональность: негатив, нейтрально, позитив, смешанное',
    search: 'Поиск',
    help: 'Показать или скрыть этот список',
    escape: 'Снять выбор, выйти из поля',
    many: 'Если выбрано несколько элементов, действие применяется ко всем.',
  },
);

export type ShortcutKey = keyof typeof TEXT.en;

/** The inbox's keys, in the order the help lists them. */
export const SHORTCUTS: readonly (readonly [string[], ShortcutKey])[] = [
  [['j', '↓'], 'next'],
  [['k', '↑'], 'previous'],
  [['o', 'Enter'], 'open'],
  [['x'], 'select'],
  [['*'], 'selectAll'],
  [['s'], 'solve'],
  [['a'], 'assign'],
  [['n'], 'notRelevant'],
  [['r'], 'needsReply'],
  [['1', '2', '3', '4'], 'sentiment'],
  [['/'], 'search'],
  [['?'], 'help'],
  [['Esc'], 'escape'],
];

export function ShortcutHelp(props: { onClose: () => void; shortcuts: typeof SHORTCUTS }) {
  const t = useText(TEXT);
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  return (
    <dialog ref={ref} class="shortcuts" aria-labelledby="shortcuts-title" onClose={props.onClose}>
      <h2 id="shortcuts-title">{t('title')}</h2>
      <table>
        <tbody>
          {props.shortcuts.map(([keys, what]) => (
            <tr key={what}>
              <th scope="row">
                {keys.map((k, i) => (
                  <span key={k}>
                    {i > 0 && ' '}
                    <kbd>{k}</kbd>
                  </span>
                ))}
              </th>
              <td>{t(what)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted small">{t('many')}</p>
      <button type="button" onClick={props.onClose} autofocus>
        {t('close')}
      </button>
    </dialog>
  );
}
