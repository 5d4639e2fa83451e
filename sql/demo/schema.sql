-- pgmodelnames demo: a chat app's two tables, as many apps have them. The
-- model registry's name is nullable and nothing forces a model to be in it.
CREATE TABLE public.llm_models (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name              text,
    provider          text NOT NULL,
    model_id          text,
    base_url          text,
    enabled           boolean NOT NULL DEFAULT true
);

CREATE TABLE public.messages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    role        text NOT NULL,
    content     text,
    model_id    uuid,
    provider    text,
    latency_ms  integer,
    created_at  timestamptz NOT NULL DEFAULT now()
);
