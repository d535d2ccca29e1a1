import { useEffect, useState } from 'preact/hooks';
import { api, type Schemas } from '../api.ts';
import { defineText, useFormats, useText } from '../i18n.tsx';
import { useSession } from '../session.ts';

const TEXT = defineText(
  {
    label: 'Open incidents',
    critical: 'Crisis',
    warning: 'Spike',
    line: '{severity}: {brand} — {observed} negative mentions, about {expected} expected; since {since}',
    ack: 'Acknowledge',
    acked: 'acknowledged by {who}',
  },
  {
    label: 'Открытые инциденты',
    critical: 'Кризис',
    warning: 'Всплеск',
    line: '{severity}: {brand} — негативных упоминаний {observed}, обычно около {expected}; с {since}',
    ack: 'Принять',
    acked: 'принял(а) {who}',
  },
);

type Incident = Schemas['Incident'];

/** Live incidents on every page, so a spike of negative talk is seen whatever one is doing. */
export function IncidentBanner(props: { refreshKey: number }) {
  const t = useText(TEXT);
  const f = useFormats();
  const { canWrite } = useSession();
  const [incidents, setIncidents] = useState<Incident[]>([]);

  async function load() {
    const { data } = await api.GET('/api/v1/incidents', { params: { query: { status: 'live', limit: 5 } } });
    if (data) setIncidents(data.data);
  }
  useEffect(() => {
    void load();
  }, [props.refreshKey]);

  if (incidents.length === 0) return null;
  return (
    <section class="incident-banner" aria-label={t('label')} role="region">
      {incidents.map((i) => (
        <p key={i.id} class={`incident ${i.severity}`}>
          <strong>
            {t('line', {
              severity: i.severity === 'critical' ? t('critical') : t('warning'),
              brand: i.brand_name,
              observed: Math.round(i.peak.observed),
              expected: Math.round(i.peak.expected),
              since: f.dateTime(i.opened_at),
            })}
          </strong>
          {i.acknowledged_by ? (
            <span class="muted"> · {t('acked', { who: i.acknowledged_by })}</span>
          ) : (
            canWrite && (
              <button
                type="button"
                class="small"
                onClick={async () => {
                  await api.POST('/api/v1/incidents/{id}/ack', { params: { path: { id: i.id } }, body: {} });
                  void load();
                }}
              >
                {t('ack')}
              </button>
            )
          )}
        </p>
      ))}
    </section>
  );
}
