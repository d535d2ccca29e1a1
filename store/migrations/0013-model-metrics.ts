import { sql, type Kysely, type Migration } from 'kysely';

// Issue: brand models are judged on the brand's own held-out corrections (or a dev file the user gives), not on
// the developers' dev splits. Each saved model keeps what it was measured at, beside the model live before it,
// so GET /api/v1/models can say why it replaced that one. Rows saved before this have no measurement (null).
export const modelMetrics: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      ALTER TABLE sentiment_models
        -- A dev file is optional now: its macro-F1 before and after only when one was given.
        ALTER COLUMN dev_before DROP NOT NULL,
        ALTER COLUMN dev_after DROP NOT NULL,
        -- The model's name as mentions carry it (sentiment_model), e.g. ru-v1+b3.2.
        ADD COLUMN model_name text,
        ADD COLUMN measured_on text CHECK (measured_on IN ('held_out_corrections', 'dev_file')),
        ADD COLUMN measured_size integer,
        ADD COLUMN measured_accuracy double precision,
        ADD COLUMN measured_macro_f1 double precision,
        -- The model live when this one was judged, on the same texts.
        ADD COLUMN live_model text,
        ADD COLUMN live_accuracy double precision,
        ADD COLUMN live_macro_f1 double precision,
        ADD CONSTRAINT sentiment_models_measured_check CHECK (
          (measured_on IS NULL AND measured_size IS NULL AND measured_accuracy IS NULL AND measured_macro_f1 IS NULL
            AND live_model IS NULL AND live_accuracy IS NULL AND live_macro_f1 IS NULL)
          OR (measured_on IS NOT NULL AND measured_size IS NOT NULL AND measured_accuracy IS NOT NULL
            AND measured_macro_f1 IS NOT NULL
            AND (live_model IS NULL) = (live_accuracy IS NULL) AND (live_accuracy IS NULL) = (live_macro_f1 IS NULL))
        );
    `.execute(db);
  },
};
