using System.ComponentModel.DataAnnotations;

namespace CheckoutService;

/// <summary>
/// Every setting, read once from the environment at start-up and validated there: a bad value
/// stops the service with a message that names the variable, not at the first order.
/// </summary>
public sealed class CheckoutSettings
{
    [ConfigurationKeyName("GUEST_SESSION_TTL_SECONDS")]
    [Range(60, 86_400, ErrorMessage = "GUEST_SESSION_TTL_SECONDS must be between 60 and 86400 seconds.")]
    public int GuestSessionTtlSeconds { get; set; } = 900;

    [ConfigurationKeyName("CART_TTL_SECONDS")]
    [Range(60, 2_592_000, ErrorMessage = "CART_TTL_SECONDS must be between 60 and 2592000 seconds.")]
    public int CartTtlSeconds { get; set; } = 86_400;

    /// <summary>
    /// svc-payment-gateway's base URL, or <c>embedded</c> for the simulator inside the service on a
    /// loopback port. Unset means embedded too, except in Production, where it stops start-up.
    /// </summary>
    [ConfigurationKeyName("PAYMENT_GATEWAY_URL")]
    public string? PaymentGatewayUrl { get; set; }

    [ConfigurationKeyName("PAYMENT_GATEWAY_SERVICE_TOKEN")]
    public string? PaymentGatewayServiceToken { get; set; }

    [ConfigurationKeyName("PAYMENT_GATEWAY_TIMEOUT_MS")]
    [Range(100, 60_000, ErrorMessage = "PAYMENT_GATEWAY_TIMEOUT_MS must be between 100 and 60000.")]
    public int PaymentGatewayTimeoutMs { get; set; } = 8000;

    [ConfigurationKeyName("PAYMENT_GATEWAY_MAX_RETRIES")]
    [Range(0, 10, ErrorMessage = "PAYMENT_GATEWAY_MAX_RETRIES must be between 0 and 10.")]
    public int PaymentGatewayMaxRetries { get; set; } = 3;

    /// <summary>
    /// How long one connection to the gateway is reused: the client lives as long as the host, so
    /// this is what makes it reconnect, and see a DNS change, at all.
    /// </summary>
    [ConfigurationKeyName("PAYMENT_GATEWAY_CONNECTION_LIFETIME_SECONDS")]
    [Range(1, 3600, ErrorMessage = "PAYMENT_GATEWAY_CONNECTION_LIFETIME_SECONDS must be between 1 and 3600.")]
    public int PaymentGatewayConnectionLifetimeSeconds { get; set; } = 120;

    /// <summary>The first retry's wait; each next one doubles it (1 s, 2 s, 4 s). Tests shorten it.</summary>
    [ConfigurationKeyName("PAYMENT_GATEWAY_RETRY_BASE_DELAY_MS")]
    [Range(0, 60_000, ErrorMessage = "PAYMENT_GATEWAY_RETRY_BASE_DELAY_MS must be between 0 and 60000.")]
    public int PaymentGatewayRetryBaseDelayMs { get; set; } = 1000;

    /// <summary>
    /// The most a checkout may spend paying: under the gateway's 60 s read timeout, above the
    /// worst case of 4 x 8 s attempts + 7 s of backoff.
    /// </summary>
    [ConfigurationKeyName("CHECKOUT_DEADLINE_MS")]
    [Range(1_000, 59_000, ErrorMessage = "CHECKOUT_DEADLINE_MS must be between 1000 and 59000 (under the gateway's 60 s read timeout).")]
    public int CheckoutDeadlineMs { get; set; } = 45_000;

    /// <summary>
    /// The checkout page's public address, where the shopper's browser returns after a 3-D Secure
    /// step (<c>?cart_id=</c> is added). Unset: the page on the origin the checkout request came to,
    /// which suits the embedded simulator; a deployment names its public page.
    /// </summary>
    [ConfigurationKeyName("PAYMENT_RETURN_URL")]
    [Url(ErrorMessage = "PAYMENT_RETURN_URL must be an absolute http(s) URL.")]
    public string? PaymentReturnUrl { get; set; }

    /// <summary>Unset: sessions, carts, idempotency records and rate-limit counters live in process (one replica only).</summary>
    [ConfigurationKeyName("REDIS_URL")]
    public string? RedisUrl { get; set; }

    /// <summary>Unset: SQLite under ./data/. <c>postgres://</c> URL or Npgsql connection string: PostgreSQL.</summary>
    [ConfigurationKeyName("DATABASE_URL")]
    public string? DatabaseUrl { get; set; }

    [ConfigurationKeyName("RATE_LIMIT_CHECKOUT_PER_MINUTE")]
    [Range(1, 1_000_000, ErrorMessage = "RATE_LIMIT_CHECKOUT_PER_MINUTE must be between 1 and 1000000.")]
    public int CheckoutRateLimitPerMinute { get; set; } = 10;

    [ConfigurationKeyName("RATE_LIMIT_SESSION_READS_PER_MINUTE")]
    [Range(1, 1_000_000, ErrorMessage = "RATE_LIMIT_SESSION_READS_PER_MINUTE must be between 1 and 1000000.")]
    public int SessionReadRateLimitPerMinute { get; set; } = 30;

    [ConfigurationKeyName("RATE_LIMIT_CART_CREATES_PER_MINUTE")]
    [Range(1, 1_000_000, ErrorMessage = "RATE_LIMIT_CART_CREATES_PER_MINUTE must be between 1 and 1000000.")]
    public int CartCreateRateLimitPerMinute { get; set; } = 60;

    [ConfigurationKeyName("RATE_LIMIT_SESSION_STARTS_PER_MINUTE")]
    [Range(1, 1_000_000, ErrorMessage = "RATE_LIMIT_SESSION_STARTS_PER_MINUTE must be between 1 and 1000000.")]
    public int SessionStartRateLimitPerMinute { get; set; } = 20;

    /// <summary>Saves of one session's sections (address, card) per minute, whoever sends them.</summary>
    [ConfigurationKeyName("RATE_LIMIT_SESSION_WRITES_PER_MINUTE")]
    [Range(1, 1_000_000, ErrorMessage = "RATE_LIMIT_SESSION_WRITES_PER_MINUTE must be between 1 and 1000000.")]
    public int SessionWriteRateLimitPerMinute { get; set; } = 30;

    /// <summary>The page's funnel beacons per client IP per minute.</summary>
    [ConfigurationKeyName("RATE_LIMIT_ANALYTICS_EVENTS_PER_MINUTE")]
    [Range(1, 1_000_000, ErrorMessage = "RATE_LIMIT_ANALYTICS_EVENTS_PER_MINUTE must be between 1 and 1000000.")]
    public int AnalyticsEventsRateLimitPerMinute { get; set; } = 120;

    /// <summary>Declines on one cart, or on one guest session, before its checkouts are refused (card testing).</summary>
    [ConfigurationKeyName("RATE_LIMIT_DECLINES_PER_CART")]
    [Range(1, 1_000_000, ErrorMessage = "RATE_LIMIT_DECLINES_PER_CART must be between 1 and 1000000.")]
    public int DeclinesPerCart { get; set; } = 5;

    /// <summary>Declines from one client IP in an hour before its checkouts are refused.</summary>
    [ConfigurationKeyName("RATE_LIMIT_DECLINES_PER_IP_PER_HOUR")]
    [Range(1, 1_000_000, ErrorMessage = "RATE_LIMIT_DECLINES_PER_IP_PER_HOUR must be between 1 and 1000000.")]
    public int DeclinesPerIpPerHour { get; set; } = 20;

    /// <summary>How long checkouts are refused once a limit of declines is reached; also the window a cart's or a session's declines are counted in.</summary>
    [ConfigurationKeyName("RATE_LIMIT_DECLINES_REFUSAL_SECONDS")]
    [Range(1, 86_400, ErrorMessage = "RATE_LIMIT_DECLINES_REFUSAL_SECONDS must be between 1 and 86400.")]
    public int DeclineRefusalSeconds { get; set; } = 900;

    /// <summary>
    /// The most entries the in-process store holds (carts, sessions, idempotency records and
    /// rate-limit counters together); about 1 KB each. Unused with REDIS_URL.
    /// </summary>
    [ConfigurationKeyName("INPROCESS_STORE_MAX_ENTRIES")]
    [Range(100, 100_000_000, ErrorMessage = "INPROCESS_STORE_MAX_ENTRIES must be between 100 and 100000000.")]
    public int InProcessStoreMaxEntries { get; set; } = 200_000;

    /// <summary>Proxies whose X-Forwarded-For is believed (IPs or CIDR ranges, comma-separated).</summary>
    [ConfigurationKeyName("TRUSTED_PROXIES")]
    public string TrustedProxies { get; set; } = "127.0.0.1/8,::1";

    /// <summary>The Stripe webhook endpoint's signing secret (<c>whsec_…</c>); two, comma-separated, while one is being rotated.</summary>
    [ConfigurationKeyName("STRIPE_WEBHOOK_SECRET")]
    public string? StripeWebhookSecret { get; set; }

    /// <summary>
    /// The AES-256 key (base64, 32 bytes) that seals the verification code in the
    /// <c>account.email_verification</c> event, so the outbox and Kafka hold only ciphertext; the
    /// mailer holds the same key. Required outside Development, where a random one is made per process.
    /// </summary>
    [ConfigurationKeyName("EMAIL_EVENT_KEY")]
    public string? EmailEventKey { get; set; }

    /// <summary>The countries the store ships to (ISO 3166-1 alpha-2, comma-separated): addresses elsewhere are refused.</summary>
    [ConfigurationKeyName("SHIPPING_COUNTRIES")]
    public string ShippingCountries { get; set; } = "US";

    /// <summary>Address look-ups per client IP per minute: generous, as the page asks while the shopper types.</summary>
    [ConfigurationKeyName("RATE_LIMIT_ADDRESS_VALIDATIONS_PER_MINUTE")]
    [Range(1, 1_000_000, ErrorMessage = "RATE_LIMIT_ADDRESS_VALIDATIONS_PER_MINUTE must be between 1 and 1000000.")]
    public int AddressValidationRateLimitPerMinute { get; set; } = 120;

    /// <summary>Kafka brokers (<c>host:port</c>, comma-separated); without them events stay in the outbox.</summary>
    [ConfigurationKeyName("KAFKA_BOOTSTRAP_SERVERS")]
    public string? KafkaBootstrapServers { get; set; }

    /// <summary>Failed deliveries of one event before the relay parks it (a poison message) and stops trying.</summary>
    [ConfigurationKeyName("OUTBOX_MAX_ATTEMPTS")]
    [Range(1, 100, ErrorMessage = "OUTBOX_MAX_ATTEMPTS must be between 1 and 100.")]
    public int OutboxMaxAttempts { get; set; } = 8;

    /// <summary>The wait after an event's first failed delivery; it doubles with each further failure.</summary>
    [ConfigurationKeyName("OUTBOX_RETRY_BACKOFF_MS")]
    [Range(10, 600_000, ErrorMessage = "OUTBOX_RETRY_BACKOFF_MS must be between 10 and 600000.")]
    public int OutboxRetryBackoffMs { get; set; } = 1000;

    /// <summary>Where Prometheus scrapes <c>/metrics</c> (its own listener, off the API's port); <c>off</c> turns it off.</summary>
    [ConfigurationKeyName("METRICS_URL")]
    public string MetricsUrl { get; set; } = "http://127.0.0.1:9090";

    /// <summary>The <c>cluster</c> label of the Redis metrics, as the dashboards name the sessions' Redis.</summary>
    [ConfigurationKeyName("REDIS_METRICS_CLUSTER")]
    public string RedisMetricsCluster { get; set; } = "checkout-sessions-prod";

    /// <summary>The region this replica serves, for the flag's targeting (an edge header, when trusted, says it per request).</summary>
    [ConfigurationKeyName("REGION")]
    public string Region { get; set; } = "local";

    /// <summary>A header the edge (CDN, Kong) sets with the visitor's region; believed only from <c>TRUSTED_PROXIES</c>.</summary>
    [ConfigurationKeyName("REGION_HEADER")]
    public string? RegionHeader { get; set; }

    /// <summary>Where visitors outside guest checkout v2 go: the existing checkout.</summary>
    [ConfigurationKeyName("LEGACY_CHECKOUT_URL")]
    public string LegacyCheckoutUrl { get; set; } = "https://www.vantage.com/checkout";

    /// <summary>The flag's starting targeting until an operator changes it at run time: the share of visitors' buckets in guest v2.</summary>
    [ConfigurationKeyName("GUEST_CHECKOUT_V2_PERCENT")]
    [Range(0, 100, ErrorMessage = "GUEST_CHECKOUT_V2_PERCENT must be between 0 and 100.")]
    public int GuestCheckoutV2Percent { get; set; } = 100;

    /// <summary>The flag's starting regions (comma-separated), or <c>*</c> for every region.</summary>
    [ConfigurationKeyName("GUEST_CHECKOUT_V2_REGIONS")]
    public string GuestCheckoutV2Regions { get; set; } = "*";

    /// <summary>On SIGTERM: how long /healthz says not-ready while in-flight checkouts finish, before the host stops.</summary>
    [ConfigurationKeyName("SHUTDOWN_DRAIN_SECONDS")]
    [Range(0, 300, ErrorMessage = "SHUTDOWN_DRAIN_SECONDS must be between 0 and 300.")]
    public int ShutdownDrainSeconds { get; set; } = 20;

    [ConfigurationKeyName("CORS_ALLOWED_ORIGINS")]
    public string CorsAllowedOrigins { get; set; } = "https://www.vantage.com,https://staging.vantage.com";

    /// <summary>
    /// Stripe.js v3, which the checkout page loads to put the card fields (the gateway's iframe) on the
    /// page: card numbers go from that frame to the gateway, never to this service (PCI SAQ A).
    /// Unset: the gateway simulator's <c>/v3/stripe.js</c> (the embedded one, or the one at
    /// <c>PAYMENT_GATEWAY_URL</c>); in production <c>https://js.stripe.com/v3/</c>.
    /// </summary>
    [ConfigurationKeyName("PAYMENT_JS_URL")]
    public string? PaymentJsUrl { get; set; }

    /// <summary>The key Stripe.js is started with (<c>pk_test_…</c> or <c>pk_live_…</c>): public by design, it only tokenizes cards.</summary>
    [ConfigurationKeyName("STRIPE_PUBLISHABLE_KEY")]
    [RegularExpression("^pk_(test|live)_[A-Za-z0-9]+$", ErrorMessage = "STRIPE_PUBLISHABLE_KEY must be a publishable key, pk_test_… or pk_live_… (letters and digits).")]
    public string StripePublishableKey { get; set; } = "pk_test_simulator";

    public TimeSpan GuestSessionTtl => TimeSpan.FromSeconds(GuestSessionTtlSeconds);
    public TimeSpan CartTtl => TimeSpan.FromSeconds(CartTtlSeconds);
}
