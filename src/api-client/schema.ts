// Generated from the OpenAPI document by `bun run openapi:types` (openapi-typescript); do not edit.

export interface paths {
  "/v0/token": {
    /**
     * Get an access token
     * @description OAuth 2 password grant (a user with `view_tools`) or client-credentials grant (`client_secret` is an API token, `client_id` its name or id). Form-encoded; a body with no content type or `text/plain` is read as a form too. Wrong credentials are a 403, as NewStore answers. Failed password grants are throttled together with the sign-in page.
     */
    post: operations["createToken"];
  };
  "/api/v1/events": {
    /**
     * Publish events
     * @description One envelope, an array of envelopes (a batch: all or nothing), or NDJSON. Needs `publish_events`. The `id` is the idempotency key.
     */
    post: operations["publishEvents"];
  };
  "/api/v1/event-types": {
    /** The event catalog */
    get: operations["listEventTypes"];
  };
  "/api/v1/org/integrations/eventstream": {
    /** List integrations */
    get: operations["listIntegrations"];
    /** Create (and start) an integration */
    post: operations["createIntegration"];
  };
  "/api/v1/org/integrations/eventstream/{id}": {
    /** Read an integration */
    get: operations["getIntegration"];
    /** Delete an integration with its deliveries and logs */
    delete: operations["deleteIntegration"];
    /** Edit an integration */
    patch: operations["updateIntegration"];
  };
  "/api/v1/org/integrations/eventstream/{id}/_start": {
    /** Start */
    post: operations["startIntegration"];
  };
  "/api/v1/org/integrations/eventstream/{id}/_stop": {
    /**
     * Stop (pause)
     * @description Once answered, no attempt starts; events keep accumulating and are delivered after a start.
     */
    post: operations["stopIntegration"];
  };
  "/api/v1/org/integrations/eventstream/{id}/_test": {
    /**
     * Test the connection
     * @description A signed `tideway.test` event to the webhook, or an S3 put and delete.
     */
    post: operations["testIntegration"];
  };
  "/api/v1/org/integrations/eventstream/{id}/published-events/{event_id}/_retry": {
    /** Resend one delivery now */
    post: operations["resendDelivery"];
  };
  "/api/v1/org/integrations/eventstream/{id}/rejected-events": {
    /** Events the consumer refused (4xx) */
    get: operations["listRejectedEvents"];
  };
  "/api/v1/org/integrations/eventstream/{id}/logs": {
    /** Starts, stops and why */
    get: operations["listIntegrationLogs"];
  };
  "/api/v1/org/integrations/eventstream/{id}/signing-secret": {
    /** Reveal the webhook signing secret */
    get: operations["getSigningSecret"];
  };
  "/api/v1/org/integrations/eventstream/{id}/signing-secret/_rotate": {
    /**
     * Rotate the signing secret
     * @description Both signatures are sent for 24 hours.
     */
    post: operations["rotateSigningSecret"];
  };
  "/api/v1/org/integrations/published-events": {
    /** Delivery records */
    get: operations["listPublishedEvents"];
  };
  "/api/v1/org/notification-channels": {
    /** List notification channels */
    get: operations["listNotificationChannels"];
    /**
     * Create a notification channel
     * @description A `webhook` (with `format` `json` or `slack`; `signing_secret` generated when absent and answered in full this once) or an `email` channel (refused with 422 when the deployment has no `SMTP_URL`).
     */
    post: operations["createNotificationChannel"];
  };
  "/api/v1/org/notification-channels/{id}": {
    /** Read a notification channel */
    get: operations["getNotificationChannel"];
    /** Delete a notification channel */
    delete: operations["deleteNotificationChannel"];
    /**
     * Edit a notification channel
     * @description Any field of its kind; the kind stays.
     */
    patch: operations["updateNotificationChannel"];
  };
  "/api/v1/org/notification-channels/{id}/_test": {
    /**
     * Send a test notification
     * @description Sends a `notification.test` notice now, as real ones go, and answers how it went.
     */
    post: operations["testNotificationChannel"];
  };
  "/metrics": {
    /**
     * Prometheus metrics
     * @description The Prometheus text exposition; needs a bearer token with `view_tools`.
     */
    get: operations["metrics"];
  };
  "/healthz": {
    /** Liveness */
    get: operations["health"];
  };
  "/readyz": {
    /** Readiness */
    get: operations["readiness"];
  };
}
/** OneOf type helpers */
type Without<T, U> = { [P in Exclude<keyof T, keyof U>]?: never };
type XOR<T, U> = (T | U) extends object ? (Without<T, U> & U) | (Without<U, T> & T) : T | U;
type OneOf<T extends any[]> = T extends [infer Only] ? Only : T extends [infer A, infer B, ...infer Rest] ? OneOf<[XOR<A, B>, ...Rest]> : never;


export type webhooks = Record<string, never>;

export interface components {
  schemas: {
    /** @description A password grant (a user with view_tools) or a client-credentials grant (an API token). */
    TokenRequest: OneOf<[{
      /** @constant */
      grant_type: "password";
      /** @example admin@localhost */
      username: string;
      password: string;
    }, {
      /** @constant */
      grant_type: "client_credentials";
      /** @example erp */
      client_id: string;
      /** @example tw_… */
      client_secret: string;
    }]>;
    /** @description An event as producers publish it. `id` and `published_at` default to a new UUID and now; `tenant` to this deployment’s. */
    EventEnvelope: {
      /** Format: uuid */
      id?: string;
      tenant?: string;
      name: string;
      /** Format: date-time */
      published_at?: string;
      /** @description The event data, a JSON object (e.g. the order). */
      payload: {
        [key: string]: unknown;
      };
      domain_entity_type?: string;
      domain_entity_id?: string;
    };
    /**
     * @description Give exactly one target: `callback_parameters` (webhook) or `s3_parameters` (S3). A temporary integration needs `ends_at` after its start. Names in `filter_conditions` must be in the event catalog (`GET /api/v1/event-types`).
     * @example {
     *   "id": "erp",
     *   "integration_type": "permanent",
     *   "filter_conditions": {
     *     "event_filter": [
     *       "order.created",
     *       "order.cancelled"
     *     ],
     *     "entity_filter": []
     *   },
     *   "callback_parameters": {
     *     "callback_url": "https://erp.example.com/hooks/tideway",
     *     "api_key": "secret-key"
     *   }
     * }
     */
    NewIntegration: {
      id: string;
      /** @enum {string} */
      integration_type: "permanent" | "temporary";
      starts_at?: string | null;
      ends_at?: string | null;
      status?: ("running" | "stopped") | null;
      ordering?: ("unordered" | "by_domain_entity") | null;
      /** @description An event is delivered when its name is in `event_filter` or its entity in `entity_filter`; empty or absent: every event. */
      filter_conditions?: {
        /** @description Event names to deliver, e.g. `order.created`. */
        event_filter?: string[];
        /** @description Entities whose every event is delivered, e.g. `order`. */
        entity_filter?: string[];
        /**
         * @deprecated
         * @description Alias of `event_filter`.
         */
        events?: string[];
        /**
         * @deprecated
         * @description Alias of `entity_filter`.
         */
        entities?: string[];
      } | null;
      callback_parameters?: ({
        callback_url: string;
        api_key?: string | null;
      }) | null;
      s3_parameters?: ({
        aws_access_key_id: string;
        aws_secret_access_key: string;
        aws_region: string;
        bucket: string;
        key_prefix?: string | null;
        endpoint?: string | null;
        /** @description How objects are compressed: `none` (`.export`), `gzip` (`.export.gz`) or `zstd` (`.export.zst`). */
        compression?: ("none" | "gzip" | "zstd") | null;
        /** @description The older way to say `compression`: true is `gzip`, false is `none`. */
        gzip?: boolean | null;
        /** @description What objects hold: `ndjson` (the default: one event envelope per line) or `parquet` (one row per event: id, tenant, name, published_at, entity, entity_id, domain_entity_type, domain_entity_id, payload as JSON; compressed inside the file, `.parquet`). */
        format?: ("ndjson" | "parquet") | null;
        /** @description Object keys (the extension is added): placeholders `{key_prefix}`, `{tenant}`, `{timestamp_ms}`, `{batch_id}`, `{integration_id}`, `{event_name}`, `{entity}`, `{yyyy}`, `{MM}`, `{dd}`, `{HH}`; per-event ones (`{event_name}`, `{entity}`, `{yyyy}` … `{HH}` of published_at in UTC) split each batch into one object per value. Must hold `{batch_id}`. Absent, empty or null: NewStore's `{key_prefix}/{tenant}/{timestamp_ms}-data-{batch_id}`. */
        key_template?: string | null;
      }) | null;
      signing_secret?: string | null;
    };
    /**
     * @description Only `filter_conditions` and the target’s details may change. An empty or absent secret keeps the stored one.
     * @example {
     *   "callback_parameters": {
     *     "callback_url": "https://erp.example.com/v2/hooks"
     *   }
     * }
     */
    IntegrationChanges: {
      /**
       * @description `by_domain_entity`: the events of one domain entity (e.g. one order) are delivered one at a time, in publication order; a failing one holds back only its own entity. `unordered` (the default): any order, fastest.
       * @enum {string}
       */
      ordering?: "unordered" | "by_domain_entity";
      /** @description An event is delivered when its name is in `event_filter` or its entity in `entity_filter`; empty or absent: every event. */
      filter_conditions?: {
        /** @description Event names to deliver, e.g. `order.created`. */
        event_filter?: string[];
        /** @description Entities whose every event is delivered, e.g. `order`. */
        entity_filter?: string[];
        /**
         * @deprecated
         * @description Alias of `event_filter`.
         */
        events?: string[];
        /**
         * @deprecated
         * @description Alias of `entity_filter`.
         */
        entities?: string[];
      } | null;
      callback_parameters?: ({
        callback_url?: string;
        api_key?: string | null;
      }) | null;
      s3_parameters?: ({
        aws_access_key_id?: string;
        aws_secret_access_key?: string;
        aws_region?: string;
        bucket?: string;
        key_prefix?: string | null;
        endpoint?: string | null;
        /** @description How objects are compressed: `none` (`.export`), `gzip` (`.export.gz`) or `zstd` (`.export.zst`). */
        compression?: ("none" | "gzip" | "zstd") | null;
        /** @description The older way to say `compression`: true is `gzip`, false is `none`. */
        gzip?: boolean | null;
        /** @description What objects hold: `ndjson` (the default: one event envelope per line) or `parquet` (one row per event: id, tenant, name, published_at, entity, entity_id, domain_entity_type, domain_entity_id, payload as JSON; compressed inside the file, `.parquet`). */
        format?: ("ndjson" | "parquet") | null;
        /** @description Object keys (the extension is added): placeholders `{key_prefix}`, `{tenant}`, `{timestamp_ms}`, `{batch_id}`, `{integration_id}`, `{event_name}`, `{entity}`, `{yyyy}`, `{MM}`, `{dd}`, `{HH}`; per-event ones (`{event_name}`, `{entity}`, `{yyyy}` … `{HH}` of published_at in UTC) split each batch into one object per value. Must hold `{batch_id}`. Absent, empty or null: NewStore's `{key_prefix}/{tenant}/{timestamp_ms}-data-{batch_id}`. */
        key_template?: string | null;
      }) | null;
      [key: string]: unknown;
    };
    /**
     * @example {
     *   "kind": "webhook",
     *   "url": "https://ops.example.com/hooks/tideway",
     *   "format": "json"
     * }
     */
    NewNotificationChannel: OneOf<[{
      /** @constant */
      kind: "webhook";
      /**
       * @description Where the notices are POSTed.
       * @example https://ops.example.com/hooks/tideway
       */
      url: string;
      /**
       * @description `json`: the notice itself; `slack`: a Slack incoming-webhook body `{"text": …}`.
       * @default json
       * @enum {string}
       */
      format?: "json" | "slack";
      /** @description Signs every notice (Standard Webhooks); generated when absent and then shown once. */
      signing_secret?: string;
      filter?: components["schemas"]["NotificationFilter"];
    }, {
      /** @constant */
      kind: "email";
      /**
       * @example [
       *   "ops@example.com"
       * ]
       */
      to: string[];
      filter?: components["schemas"]["NotificationFilter"];
    }]>;
    NotificationFilter: {
      /**
       * @description Integration ids; empty or absent: every integration.
       * @default []
       */
      integrations?: string[];
      /**
       * @description Notification types; empty or absent: every type.
       * @default []
       */
      types?: ("integration.stopped" | "integration.completed" | "integration.backlog_delayed" | "integration.backlog_recovered" | "deliveries.failed")[];
    };
    /**
     * @example {
     *   "filter": {
     *     "types": [
     *       "integration.stopped"
     *     ]
     *   }
     * }
     */
    NotificationChannelChanges: {
      /**
       * @description Where the notices are POSTed.
       * @example https://ops.example.com/hooks/tideway
       */
      url?: string;
      /**
       * @description `json`: the notice itself; `slack`: a Slack incoming-webhook body `{"text": …}`.
       * @enum {string}
       */
      format?: "json" | "slack";
      /** @description Signs every notice (Standard Webhooks); generated when absent and then shown once. */
      signing_secret?: string;
      /**
       * @example [
       *   "ops@example.com"
       * ]
       */
      to?: string[];
      filter?: components["schemas"]["NotificationFilter"];
    };
    /**
     * @example {
     *   "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.…",
     *   "token_type": "Bearer",
     *   "expires_in": 3600,
     *   "scope": "view_tools"
     * }
     */
    TokenResponse: {
      /** @description A JWT (HS256) with `exp`; send it as `Authorization: Bearer <access_token>`. */
      access_token: string;
      /** @constant */
      token_type: "Bearer";
      /** @description Seconds until the token expires. */
      expires_in: number;
      /** @description The holder's permissions, space-separated. */
      scope: string;
    };
    /**
     * @description RFC 9457 problem details, with NewStore’s `error_code` and `message`.
     * @example {
     *   "type": "https://tideway.dev/problems/not-found",
     *   "title": "Integration not found",
     *   "status": 404,
     *   "detail": "There is no integration \"erp\".",
     *   "instance": "/api/v1/org/integrations/eventstream/erp",
     *   "request_id": "8c1f…",
     *   "error_code": "resource_not_found",
     *   "message": "There is no integration \"erp\"."
     * }
     */
    Problem: {
      /** @description A URI naming the kind of problem, or `about:blank`. */
      type: string;
      title: string;
      status: number;
      detail: string;
      /** @description The request path. */
      instance: string;
      request_id?: string;
      /** @description NewStore's error code: `resource_not_found`, `validation_error`, `unauthorized`, `forbidden`, `conflict`, `bad_request`, `too_many_requests`, `service_unavailable`… */
      error_code: string;
      /** @description The detail again, under NewStore's name. */
      message: string;
      errors?: components["schemas"]["FieldError"][];
    };
    FieldError: {
      /** @description The field, e.g. `callback_parameters.callback_url`. */
      field?: string;
      /** @description The event in a batch (0-based). */
      index?: number;
      /** @description The NDJSON line (1-based). */
      line?: number;
      /** @description Byte offset of bytes that are not UTF-8. */
      offset?: number;
      message: string;
    };
    /**
     * @example {
     *   "accepted": 1,
     *   "ids": [
     *     "3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f"
     *   ],
     *   "duplicates": []
     * }
     */
    IngestResult: {
      /** @description Events in the request, duplicates included. */
      accepted: number;
      ids: string[];
      /** @description Ids already stored: stored once, answered as success. */
      duplicates: string[];
    };
    /**
     * @example {
     *   "event_types": [
     *     {
     *       "name": "order.created",
     *       "entity": "order",
     *       "description": "An order was placed.",
     *       "deprecated": false,
     *       "replaced_by": null,
     *       "domain_entity": {
     *         "type": "order",
     *         "id_field": "payload.id"
     *       }
     *     }
     *   ]
     * }
     */
    EventTypes: {
      event_types: ({
          name: string;
          entity: string;
          description: string;
          deprecated: boolean;
          replaced_by: string | null;
          domain_entity: {
            type: string | null;
            id_field: string;
          };
        })[];
    };
    /**
     * @example {
     *   "integrations": [],
     *   "next_cursor": null
     * }
     */
    IntegrationList: {
      integrations: components["schemas"]["Integration"][];
      /** @description Pass as `cursor` for the next page; null on the last page. */
      next_cursor: string | null;
    };
    /**
     * @example {
     *   "id": "erp",
     *   "integration_type": "permanent",
     *   "ordering": "unordered",
     *   "status": "running",
     *   "starts_at": "2026-12-01T10:00:00.000Z",
     *   "ends_at": null,
     *   "filter_conditions": {
     *     "event_filter": [
     *       "order.created"
     *     ],
     *     "entity_filter": []
     *   },
     *   "callback_parameters": {
     *     "callback_url": "https://erp.example.com/hooks/tideway",
     *     "api_key": "••••3f9a"
     *   },
     *   "created_at": "2026-12-01T10:00:00.000Z",
     *   "updated_at": "2026-12-01T10:00:00.000Z",
     *   "stats": {
     *     "pending": 0,
     *     "delivered": 12,
     *     "failed": 0,
     *     "rejected": 1,
     *     "last_delivery_at": "2026-12-01T10:05:00.000Z",
     *     "oldest_pending_at": null
     *   }
     * }
     */
    Integration: {
      id: string;
      /** @enum {string} */
      integration_type: "permanent" | "temporary";
      /**
       * @description `by_domain_entity`: one entity’s events one at a time, in publication order; `unordered`: any order.
       * @enum {string}
       */
      ordering: "unordered" | "by_domain_entity";
      /** @enum {string} */
      status: "running" | "stopped";
      starts_at: string | null;
      ends_at: string | null;
      filter_conditions: {
        event_filter: string[];
        entity_filter: string[];
      };
      /** @description A webhook integration’s target. */
      callback_parameters?: {
        callback_url: string | null;
        /** @description Masked, e.g. `••••3f9a`. */
        api_key: string | null;
      };
      /** @description An S3 integration’s target. */
      s3_parameters?: {
        aws_access_key_id: string | null;
        /** @description Masked. */
        aws_secret_access_key: string | null;
        aws_region: string | null;
        bucket: string | null;
        key_prefix: string | null;
        endpoint: string | null;
        /** @enum {string} */
        compression: "none" | "gzip" | "zstd";
        /** @description Whether `compression` is `gzip` (the older field). */
        gzip: boolean;
        /** @enum {string} */
        format: "ndjson" | "parquet";
        /** @description The object key template (NewStore’s key unless one was given). */
        key_template: string;
      };
      /**
       * Format: date-time
       * @example 2026-12-01T10:00:00.000Z
       */
      created_at: string;
      /**
       * Format: date-time
       * @example 2026-12-01T10:00:00.000Z
       */
      updated_at: string;
      stats: {
        pending: number;
        delivered: number;
        failed: number;
        rejected: number;
        last_delivery_at: string | null;
        oldest_pending_at: string | null;
      };
    };
    /**
     * @example {
     *   "ok": true,
     *   "summary": "The callback answered 200 OK in 35 ms.",
     *   "status_code": 200,
     *   "duration_ms": 35,
     *   "error": null,
     *   "response_body": "ok"
     * }
     */
    ConnectionTest: {
      ok: boolean;
      /** @description What happened, in a sentence. */
      summary: string;
      status_code: number | null;
      duration_ms: number;
      error: string | null;
      response_body: string | null;
    };
    /**
     * @example {
     *   "status": "success",
     *   "attempt": {
     *     "attempted_at": "2026-12-01T10:00:00.000Z",
     *     "outcome": "success",
     *     "trigger": "manual",
     *     "status_code": 200,
     *     "error": null,
     *     "response_time_ms": 35
     *   }
     * }
     */
    Resend: {
      /** @enum {string} */
      status: "pending" | "success" | "failure" | "rejected";
      attempt: {
        /**
         * Format: date-time
         * @example 2026-12-01T10:00:00.000Z
         */
        attempted_at: string;
        /** @enum {string} */
        outcome: "success" | "retry" | "rejected" | "interrupt";
        /** @constant */
        trigger: "manual";
        status_code: number | null;
        error: string | null;
        response_time_ms: number;
      };
    };
    /**
     * @example {
     *   "rejected_events": [
     *     {
     *       "event_id": "3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f",
     *       "event_name": "order.created",
     *       "domain_entity_id": "order-1001",
     *       "published_at": "2026-12-01T10:00:01.000Z",
     *       "created_at": "2026-12-01T10:00:01.250Z",
     *       "status_code": 422,
     *       "response": "{\"error\":\"unknown customer\"}"
     *     }
     *   ],
     *   "next_cursor": null
     * }
     */
    RejectedEvents: {
      rejected_events: ({
          /** Format: uuid */
          event_id: string;
          event_name: string;
          domain_entity_id: string | null;
          /**
           * Format: date-time
           * @example 2026-12-01T10:00:00.000Z
           */
          published_at: string;
          created_at: string | null;
          status_code: number | null;
          /** @description The excerpt of the consumer’s answer (at most 20 KB), or the error. */
          response: string | null;
        })[];
      /** @description Pass as `cursor` for the next page; null on the last page. */
      next_cursor: string | null;
    };
    /**
     * @example {
     *   "logs": [
     *     {
     *       "action": "stopped",
     *       "reason": "The callback answered 401 Unauthorized",
     *       "actor": "system",
     *       "created_at": "2026-12-01T10:00:00.000Z"
     *     }
     *   ],
     *   "next_cursor": null
     * }
     */
    IntegrationLogs: {
      logs: ({
          action: string;
          reason: string | null;
          actor: string | null;
          /**
           * Format: date-time
           * @example 2026-12-01T10:00:00.000Z
           */
          created_at: string;
        })[];
      /** @description Pass as `cursor` for the next page; null on the last page. */
      next_cursor: string | null;
    };
    SigningSecret: {
      /** @example whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw */
      signing_secret: string;
    };
    /**
     * @example {
     *   "events": [
     *     {
     *       "integration_id": "erp",
     *       "integration_type": "permanent",
     *       "target": "erp.example.com",
     *       "status": "success",
     *       "attempted_at": "2026-12-01T10:00:01.250Z",
     *       "retries_remaining": 0,
     *       "entity_id": "order-1001",
     *       "domain_entity_id": "order-1001",
     *       "domain_entity_type": "order",
     *       "event_name": "order.created",
     *       "event_id": "3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f",
     *       "published_at": "2026-12-01T10:00:01.000Z",
     *       "response_time_ms": 42
     *     }
     *   ],
     *   "next_cursor": null
     * }
     */
    PublishedEvents: {
      events: ({
          integration_id: string;
          integration_type: ("permanent" | "temporary") | null;
          target: string | null;
          /** @enum {string} */
          status: "pending" | "success" | "failure" | "rejected";
          attempted_at: string | null;
          retries_remaining: number;
          entity_id: string | null;
          domain_entity_id: string | null;
          domain_entity_type: string | null;
          event_name: string;
          /** Format: uuid */
          event_id: string;
          /**
           * Format: date-time
           * @example 2026-12-01T10:00:00.000Z
           */
          published_at: string;
          response_time_ms: number | null;
        })[];
      /** @description Pass as `cursor` for the next page; null on the last page. */
      next_cursor: string | null;
    };
    NotificationChannelList: {
      notification_channels: components["schemas"]["NotificationChannel"][];
    };
    /**
     * @description Where notices go. Each notice is `{type, id, occurred_at, integration_id, reason, details, url}`, signed with Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`); Slack format sends `{"text": …}` instead; email carries the same facts in its subject and text.
     * @example {
     *   "id": "0b6f2d0e-3c1a-4a53-9d1e-7f0e6a1b2c3d",
     *   "kind": "webhook",
     *   "url": "https://ops.example.com/hooks/tideway",
     *   "format": "json",
     *   "signing_secret": "••••3f9a",
     *   "filter": {
     *     "integrations": [],
     *     "types": [
     *       "integration.stopped"
     *     ]
     *   },
     *   "created_at": "2026-12-02T10:00:00.000Z",
     *   "updated_at": "2026-12-02T10:00:00.000Z"
     * }
     */
    NotificationChannel: {
      /** Format: uuid */
      id: string;
      /** @enum {string} */
      kind: "webhook" | "email";
      /** @description Webhook channels. */
      url?: string;
      /**
       * @description Webhook channels.
       * @enum {string}
       */
      format?: "json" | "slack";
      /** @description Webhook channels: in full in the answer to the creation only (save it then), masked (`••••3f9a`) afterwards. */
      signing_secret?: string;
      /** @description Email channels: the recipients. */
      to?: string[];
      filter: {
        integrations: string[];
        types: ("integration.stopped" | "integration.completed" | "integration.backlog_delayed" | "integration.backlog_recovered" | "deliveries.failed")[];
      };
      /**
       * Format: date-time
       * @example 2026-12-02T10:00:00.000Z
       */
      created_at: string;
      /**
       * Format: date-time
       * @example 2026-12-02T10:00:00.000Z
       */
      updated_at: string;
    };
    Health: {
      /** @constant */
      status: "ok";
      version: string;
      uptime_seconds: number;
    };
    /** @description When unavailable, further fields say what is unwell (the database, stale loops, shutting down). */
    Readiness: {
      /** @enum {string} */
      status: "ready" | "unavailable";
      database: string;
      version?: string;
      [key: string]: unknown;
    };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}

export type $defs = Record<string, never>;

export type external = Record<string, never>;

export interface operations {

  /**
   * Get an access token
   * @description OAuth 2 password grant (a user with `view_tools`) or client-credentials grant (`client_secret` is an API token, `client_id` its name or id). Form-encoded; a body with no content type or `text/plain` is read as a form too. Wrong credentials are a 403, as NewStore answers. Failed password grants are throttled together with the sign-in page.
   */
  createToken: {
    requestBody: {
      content: {
        /**
         * @example {
         *   "grant_type": "password",
         *   "username": "admin@localhost",
         *   "password": "…"
         * }
         */
        "application/x-www-form-urlencoded": components["schemas"]["TokenRequest"];
        "application/json": components["schemas"]["TokenRequest"];
      };
    };
    responses: {
      /** @description An access token (valid for `expires_in` seconds). */
      200: {
        content: {
          "application/json": components["schemas"]["TokenResponse"];
        };
      };
      /** @description The request is malformed (not JSON, or a bad query parameter). */
      400: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description Too many failed sign-ins: wait 15 minutes. */
      429: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /**
   * Publish events
   * @description One envelope, an array of envelopes (a batch: all or nothing), or NDJSON. Needs `publish_events`. The `id` is the idempotency key.
   */
  publishEvents: {
    requestBody: {
      content: {
        /**
         * @example {
         *   "id": "3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f",
         *   "name": "order.created",
         *   "published_at": "2026-12-01T10:00:00.000Z",
         *   "payload": {
         *     "id": "order-1001"
         *   }
         * }
         */
        "application/json": components["schemas"]["EventEnvelope"] | components["schemas"]["EventEnvelope"][];
        "application/x-ndjson": string;
      };
    };
    responses: {
      /** @description Stored; deliveries are queued. */
      202: {
        content: {
          "application/json": components["schemas"]["IngestResult"];
        };
      };
      /** @description The request is malformed (not JSON, or a bad query parameter). */
      400: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The body is too large. */
      413: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The content type is not accepted. */
      415: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The body names fields that are missing or wrong; nothing was changed. */
      422: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /** The event catalog */
  listEventTypes: {
    responses: {
      /** @description Every event type, with its domain-entity rule. */
      200: {
        content: {
          "application/json": components["schemas"]["EventTypes"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /** List integrations */
  listIntegrations: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
      };
    };
    responses: {
      /** @description A page of integrations. */
      200: {
        content: {
          "application/json": components["schemas"]["IntegrationList"];
        };
      };
      /** @description The request is malformed (not JSON, or a bad query parameter). */
      400: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /** Create (and start) an integration */
  createIntegration: {
    requestBody: {
      content: {
        "application/json": components["schemas"]["NewIntegration"];
      };
    };
    responses: {
      /** @description Created and running (unless created stopped). */
      201: {
        content: {
          "application/json": components["schemas"]["Integration"];
        };
      };
      /** @description The request is malformed (not JSON, or a bad query parameter). */
      400: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description It exists already. */
      409: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The body names fields that are missing or wrong; nothing was changed. */
      422: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /** Read an integration */
  getIntegration: {
    parameters: {
      path: {
        /** @description The integration id. */
        id: string;
      };
    };
    responses: {
      /** @description The integration; secrets masked. */
      200: {
        content: {
          "application/json": components["schemas"]["Integration"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description There is no such resource. */
      404: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /** Delete an integration with its deliveries and logs */
  deleteIntegration: {
    parameters: {
      path: {
        /** @description The integration id. */
        id: string;
      };
    };
    responses: {
      /** @description Deleted. */
      204: {
        content: never;
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description There is no such resource. */
      404: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /** Edit an integration */
  updateIntegration: {
    parameters: {
      path: {
        /** @description The integration id. */
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": components["schemas"]["IntegrationChanges"];
      };
    };
    responses: {
      /** @description The integration as changed. */
      200: {
        content: {
          "application/json": components["schemas"]["Integration"];
        };
      };
      /** @description The request is malformed (not JSON, or a bad query parameter). */
      400: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description There is no such resource. */
      404: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The body names fields that are missing or wrong; nothing was changed. */
      422: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /** Start */
  startIntegration: {
    parameters: {
      path: {
        /** @description The integration id. */
        id: string;
      };
    };
    /** @description Optional: `{}`, an empty body, or a reason for the log. */
    requestBody?: {
      content: {
        "application/json": {
          reason?: string;
          [key: string]: unknown;
        };
      };
    };
    responses: {
      /** @description Running. */
      200: {
        content: {
          "application/json": components["schemas"]["Integration"];
        };
      };
      /** @description The request is malformed (not JSON, or a bad query parameter). */
      400: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description There is no such resource. */
      404: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The body names fields that are missing or wrong; nothing was changed. */
      422: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /**
   * Stop (pause)
   * @description Once answered, no attempt starts; events keep accumulating and are delivered after a start.
   */
  stopIntegration: {
    parameters: {
      path: {
        /** @description The integration id. */
        id: string;
      };
    };
    /** @description Optional: `{}`, an empty body, or a reason for the log. */
    requestBody?: {
      content: {
        "application/json": {
          reason?: string;
          [key: string]: unknown;
        };
      };
    };
    responses: {
      /** @description Stopped. */
      200: {
        content: {
          "application/json": components["schemas"]["Integration"];
        };
      };
      /** @description The request is malformed (not JSON, or a bad query parameter). */
      400: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description There is no such resource. */
      404: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The body names fields that are missing or wrong; nothing was changed. */
      422: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /**
   * Test the connection
   * @description A signed `tideway.test` event to the webhook, or an S3 put and delete.
   */
  testIntegration: {
    parameters: {
      path: {
        /** @description The integration id. */
        id: string;
      };
    };
    responses: {
      /** @description What happened. */
      200: {
        content: {
          "application/json": components["schemas"]["ConnectionTest"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description There is no such resource. */
      404: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /** Resend one delivery now */
  resendDelivery: {
    parameters: {
      path: {
        /** @description The integration id. */
        id: string;
        /** @description The event id. */
        event_id: string;
      };
    };
    responses: {
      /** @description The manual attempt and the delivery’s status after it. */
      200: {
        content: {
          "application/json": components["schemas"]["Resend"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description There is no such resource. */
      404: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The body names fields that are missing or wrong; nothing was changed. */
      422: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /** Events the consumer refused (4xx) */
  listRejectedEvents: {
    parameters: {
      query?: {
        domain_entity_id?: string;
        domain_entity_type?: string;
        event_name?: string;
        from?: string;
        to?: string;
        limit?: number;
        cursor?: string;
        before?: string;
      };
      path: {
        /** @description The integration id. */
        id: string;
      };
    };
    responses: {
      /** @description A page of rejected events, newest first. */
      200: {
        content: {
          "application/json": components["schemas"]["RejectedEvents"];
        };
      };
      /** @description The request is malformed (not JSON, or a bad query parameter). */
      400: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description There is no such resource. */
      404: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /** Starts, stops and why */
  listIntegrationLogs: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
      };
      path: {
        /** @description The integration id. */
        id: string;
      };
    };
    responses: {
      /** @description A page of log entries, newest first. */
      200: {
        content: {
          "application/json": components["schemas"]["IntegrationLogs"];
        };
      };
      /** @description The request is malformed (not JSON, or a bad query parameter). */
      400: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description There is no such resource. */
      404: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /** Reveal the webhook signing secret */
  getSigningSecret: {
    parameters: {
      path: {
        /** @description The integration id. */
        id: string;
      };
    };
    responses: {
      /** @description The Standard Webhooks secret. */
      200: {
        content: {
          "application/json": components["schemas"]["SigningSecret"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description There is no such resource. */
      404: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /**
   * Rotate the signing secret
   * @description Both signatures are sent for 24 hours.
   */
  rotateSigningSecret: {
    parameters: {
      path: {
        /** @description The integration id. */
        id: string;
      };
    };
    responses: {
      /** @description The new secret. */
      200: {
        content: {
          "application/json": components["schemas"]["SigningSecret"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description There is no such resource. */
      404: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /** Delivery records */
  listPublishedEvents: {
    parameters: {
      query?: {
        integration_id?: string;
        domain_entity_id?: string;
        domain_entity_type?: string;
        event_name?: string;
        status?: "pending" | "success" | "failure" | "rejected";
        from?: string;
        to?: string;
        limit?: number;
        cursor?: string;
        before?: string;
      };
    };
    responses: {
      /** @description A page of deliveries, newest first. */
      200: {
        content: {
          "application/json": components["schemas"]["PublishedEvents"];
        };
      };
      /** @description The request is malformed (not JSON, or a bad query parameter). */
      400: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /** List notification channels */
  listNotificationChannels: {
    responses: {
      /** @description Every channel; secrets masked. */
      200: {
        content: {
          "application/json": components["schemas"]["NotificationChannelList"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /**
   * Create a notification channel
   * @description A `webhook` (with `format` `json` or `slack`; `signing_secret` generated when absent and answered in full this once) or an `email` channel (refused with 422 when the deployment has no `SMTP_URL`).
   */
  createNotificationChannel: {
    requestBody: {
      content: {
        "application/json": components["schemas"]["NewNotificationChannel"];
      };
    };
    responses: {
      /** @description Created. */
      201: {
        content: {
          "application/json": components["schemas"]["NotificationChannel"];
        };
      };
      /** @description The request is malformed (not JSON, or a bad query parameter). */
      400: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The body names fields that are missing or wrong; nothing was changed. */
      422: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /** Read a notification channel */
  getNotificationChannel: {
    parameters: {
      path: {
        /** @description The channel id (a UUID). */
        id: string;
      };
    };
    responses: {
      /** @description The channel; its secret masked. */
      200: {
        content: {
          "application/json": components["schemas"]["NotificationChannel"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description There is no such resource. */
      404: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /** Delete a notification channel */
  deleteNotificationChannel: {
    parameters: {
      path: {
        /** @description The channel id (a UUID). */
        id: string;
      };
    };
    responses: {
      /** @description Deleted, with what was queued for it. */
      204: {
        content: never;
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description There is no such resource. */
      404: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /**
   * Edit a notification channel
   * @description Any field of its kind; the kind stays.
   */
  updateNotificationChannel: {
    parameters: {
      path: {
        /** @description The channel id (a UUID). */
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": components["schemas"]["NotificationChannelChanges"];
      };
    };
    responses: {
      /** @description The channel as changed. */
      200: {
        content: {
          "application/json": components["schemas"]["NotificationChannel"];
        };
      };
      /** @description The request is malformed (not JSON, or a bad query parameter). */
      400: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description There is no such resource. */
      404: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The body names fields that are missing or wrong; nothing was changed. */
      422: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /**
   * Send a test notification
   * @description Sends a `notification.test` notice now, as real ones go, and answers how it went.
   */
  testNotificationChannel: {
    parameters: {
      path: {
        /** @description The channel id (a UUID). */
        id: string;
      };
    };
    responses: {
      /** @description The outcome. */
      200: {
        content: {
          "application/json": components["schemas"]["ConnectionTest"];
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description There is no such resource. */
      404: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /**
   * Prometheus metrics
   * @description The Prometheus text exposition; needs a bearer token with `view_tools`.
   */
  metrics: {
    responses: {
      /** @description Metrics. */
      200: {
        content: {
          "text/plain": string;
        };
      };
      /** @description No token, or an unknown, expired or revoked one. */
      401: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The token lacks the permission. */
      403: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
      /** @description The database is unavailable, or the process is shutting down; try again after Retry-After. */
      503: {
        content: {
          "application/problem+json": components["schemas"]["Problem"];
        };
      };
    };
  };
  /** Liveness */
  health: {
    responses: {
      /** @description The process is up. */
      200: {
        content: {
          "application/json": components["schemas"]["Health"];
        };
      };
    };
  };
  /** Readiness */
  readiness: {
    responses: {
      /** @description Ready. */
      200: {
        content: {
          "application/json": components["schemas"]["Readiness"];
        };
      };
      /** @description Not ready: the database, a stale loop, or shutting down. */
      503: {
        content: {
          "application/json": components["schemas"]["Readiness"];
        };
      };
    };
  };
}
