using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace LoadTest;

/// <summary>
/// Shoppers as the page drives the API: browse, cart, session, address, payment method, read the
/// session back, pay, look the order up. Every request is timed and checked against what a real
/// shopper would expect.
/// </summary>
internal sealed class Shoppers(HttpClient http, Services services, Checks checks, IReadOnlyList<string> skus) : IDisposable
{
    private static readonly AddressBody Address = new("742 Evergreen Terrace", "Springfield", "IL", "62704", "US");
    private const string PaymentMethod = "pm_stripe_4f9c2a1b";
    private readonly ConcurrentQueue<OpenedSession> _carts = new();
    private ConcurrentQueue<OpenedSession>? _opened;
    private long _visitors;

    public static async Task<Shoppers> ConnectAsync(Services services, Checks checks, CancellationToken ct)
    {
        // One client for the bare endpoint and the service alike: the same connection pool, the same overheads.
        var http = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false, // loopback only; an HTTP_PROXY in the environment must not sit between us and the service
            UseCookies = false,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            // An open loop ahead of the service would open a connection per waiting request, and the storm of
            // connects (accept backlog, connect timeouts) would become the measurement. A fixed pool, like
            // wrk2's connections, makes them wait for one instead, still timed from their intended start.
            MaxConnectionsPerServer = 256,
            ConnectTimeout = TimeSpan.FromSeconds(5),
        })
        { Timeout = TimeSpan.FromSeconds(60) };
        var skus = services.Service is { } service
            ? (await http.GetFromJsonAsync(new Uri(service, "/api/v2/products"), LoadJson.Default.IReadOnlyListProduct, ct))!.Select(p => p.Sku).ToList()
            : [];
        return new Shoppers(http, services, checks, skus);
    }

    /// <summary>Runs one step and returns what it recorded; the progress line shows while it runs.</summary>
    public async Task<Measurement> MeasureAsync(Step step, CancellationToken ct, string what = "measuring", Timeline? timeline = null)
    {
        var m = new Measurement { Timeline = timeline };
        var label = $"{step.Workload} {step.Label}";
        Console.WriteLine($"{what}: {label}, {step.Duration.TotalSeconds:0.#} s");
        var iteration = await IterationAsync(step, m, ct);
        var run = step.Rate is { } rate
            ? LoadLoops.RunOpenAsync(m, rate, step.Duration, iteration, ct)
            : LoadLoops.RunClosedAsync(m, step.Shoppers, step.Duration, iteration, ct);
        await Progress.ShowAsync(label, m, run);
        _carts.Clear();
        return m;
    }

    /// <summary>From now on every session a funnel opens is kept, for a scenario that checks at the end that none was lost.</summary>
    public void KeepOpenedSessions() => _opened ??= new();

    public IReadOnlyList<OpenedSession> OpenedSessions => [.. _opened ?? []];

    /// <summary>One iteration of a step, due at the time given; false only when there is nothing left to do (a failure is recorded, not a stop).</summary>
    public async Task<Func<long, Task<bool>>> IterationAsync(Step step, Measurement m, CancellationToken ct)
    {
        switch (step.Workload)
        {
            case Workload.Bare:
                var bare = new Uri(services.BareUrl, "/bare");
                return Always(start => ExpectAsync(m, Measurement.BareEndpoint, 200, start, () => new HttpRequestMessage(HttpMethod.Get, bare)));
            case Workload.CartCreate:
                return Always(start => CreateCartAsync(m, Visitor(), start));
            case Workload.AddressValidate:
                // The look-up the page makes while the shopper types: a known ZIP, a city to check, a line to normalise.
                return Always(start => ExpectAsync(m, "POST addresses/validate", 200, start, () => Post(Url("/api/v2/addresses/validate"), Visitor(), null,
                    new StringContent("""{"line1":"742 Evergreen Terrace North Apartment 5","line2":"","city":"Springfield","state":"IL","zip":"62704","country":"US"}""",
                        System.Text.Encoding.UTF8, "application/json"))));
            case Workload.SessionRead:
                // Sessions made before the clock starts: the step measures reads alone.
                var sessions = new ConcurrentQueue<OpenedSession>();
                await Parallel.ForEachAsync(Enumerable.Range(0, step.Shoppers * 4), ct, async (_, _) =>
                {
                    if (await OpenSessionAsync(Measurement.Discarded) is { } opened)
                    {
                        sessions.Enqueue(opened);
                    }
                });
                var all = sessions.ToArray();
                return all.Length == 0
                    ? _ => Task.FromResult(false)
                    : Always(start => ReadSessionAsync(m, Visitor(), all[RandomNumberGenerator.GetInt32(all.Length)].Session, start));
            case Workload.Checkout:
                await PrepareCartsAsync(step, ct);
                return async start =>
                {
                    if (!_carts.TryDequeue(out var ready))
                    {
                        m.Note = "The prepared carts ran out before the duration: rates are over the time actually measured.";
                        return false;
                    }
                    if (await PayAsync(m, ready.Visitor, ready.CartId, ready.Session, start) is { } order)
                    {
                        checks.OrderPlaced(new PlacedOrder(ready.CartId, order.OrderId, order.ConfirmationToken, ready.Visitor, LookedUp: false));
                    }
                    return true;
                };
            default:
                return Always(start => FunnelAsync(m, start));
        }

        static Func<long, Task<bool>> Always(Func<long, Task> iteration) => async start =>
        {
            await iteration(start);
            return true;
        };
    }

    /// <summary>
    /// One checkout needs one cart that was never paid, so the checkout case makes them first, each
    /// with its session and both sections saved: the checkout is the page's, with the session's token
    /// and an empty body but for the cart and email. One per scheduled checkout in an open loop; in a
    /// closed loop, a short timed trial of create-and-pay gives a rate, and paying alone is well under
    /// 4 times as fast.
    /// </summary>
    private async Task PrepareCartsAsync(Step step, CancellationToken ct)
    {
        var needed = step.Rate is { } rate ? (int)Math.Ceiling(rate * step.Duration.TotalSeconds) : await ClosedLoopCartsAsync(step, ct);
        Console.WriteLine($"preparing {needed:N0} carts with their sessions for the checkout case…");
        await Parallel.ForEachAsync(Enumerable.Range(0, needed), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (_, _) =>
        {
            if (await OpenSessionAsync(Measurement.Discarded) is { } opened
                && await SaveAddressAsync(Measurement.Discarded, opened.Visitor, opened.Session)
                && await SavePaymentMethodAsync(Measurement.Discarded, opened.Visitor, opened.Session))
            {
                _carts.Enqueue(opened);
            }
        });
    }

    private async Task<int> ClosedLoopCartsAsync(Step step, CancellationToken ct)
    {
        var trial = new Measurement();
        await LoadLoops.RunClosedAsync(trial, step.Shoppers, TimeSpan.FromSeconds(2), async start =>
        {
            var visitor = Visitor();
            if (await CreateCartAsync(Measurement.Discarded, visitor, start) is { } cart)
            {
                await PayAsync(trial, visitor, cart, null, Now);
            }
            return true;
        }, ct);
        return (int)Math.Min(200_000, (trial.PerSecond(trial.Combined()) * 4 * step.Duration.TotalSeconds) + (2 * step.Shoppers));
    }

    /// <summary>
    /// The whole funnel. The first request counts from the funnel's due time; each later one from the
    /// end of the one before, when the shopper would have sent it.
    /// </summary>
    private async Task FunnelAsync(Measurement m, long due)
    {
        var visitor = Visitor();
        if (await ExpectAsync(m, "GET products", 200, due, () => Get(Url("/api/v2/products"), visitor)) is null
            || await CreateCartAsync(m, visitor, Now) is not { } cart
            || await StartSessionAsync(m, visitor, cart, Now) is not { } session
            || !await SaveAddressAsync(m, visitor, session)
            || !await SavePaymentMethodAsync(m, visitor, session)
            // The session must still be there once the last section is saved: nothing is lost before its TTL.
            || await ReadSessionAsync(m, visitor, session, Now) is null
            || await PayAsync(m, visitor, cart, session, Now) is not { } order)
        {
            return;
        }
        var found = await LookUpAsync(m, visitor, order, Now) is not null;
        checks.OrderPlaced(new PlacedOrder(cart, order.OrderId, order.ConfirmationToken, visitor, LookedUp: true));
        checks.LookedUp(order.OrderId, found);
        if (found)
        {
            m.Record(Measurement.FunnelEndpoint, due, Now, ok: true);
        }
    }

    /// <summary>A new shopper's cart and session, for a scenario that comes back to them later.</summary>
    public async Task<OpenedSession?> OpenSessionAsync(Measurement m)
    {
        var visitor = Visitor();
        return await CreateCartAsync(m, visitor, Now) is { } cart && await StartSessionAsync(m, visitor, cart, Now) is { } session
            ? new OpenedSession(visitor, cart, session)
            : null;
    }

    public Task<bool> SaveAddressAsync(Measurement m, OpenedSession opened) => SaveAddressAsync(m, opened.Visitor, opened.Session);

    /// <summary>
    /// Reads a session back by its token and checks it is the shopper's own (with the address, once saved):
    /// a 401/404/410 is a lost session, counted by its check; anything else is a mix-up.
    /// </summary>
    public async Task<bool> ReadBackAsync(
        Measurement m, OpenedSession opened, long start, bool addressSaved = false, string endpoint = "GET session", bool retry503 = true)
    {
        if (await ReadSessionAsync(m, opened.Visitor, opened.Session, start, endpoint, retry503) is not { } reply)
        {
            return false;
        }
        var view = reply.Read(LoadJson.Default.SessionView);
        var mine = view.CartId == opened.CartId && view.Email == Email(opened.Visitor);
        if (!mine || (addressSaved && !view.ShippingAddressComplete))
        {
            checks.Unexpected(endpoint, mine ? "without the address saved on it" : "another session's data");
            return false;
        }
        return true;
    }

    private async Task<bool> SavePaymentMethodAsync(Measurement m, long visitor, SessionStarted session) =>
        await ExpectAsync(m, "PUT payment-method", 200, Now, () => Put(SessionUrl(session, "/payment-method"), visitor, session.SessionToken,
            JsonContent.Create(new PaymentMethodBody(PaymentMethod), LoadJson.Default.PaymentMethodBody))) is not null;

    private async Task<bool> SaveAddressAsync(Measurement m, long visitor, SessionStarted session) =>
        await ExpectAsync(m, "PUT shipping-address", 200, Now, () => Put(SessionUrl(session, "/shipping-address"), visitor, session.SessionToken,
            JsonContent.Create(Address, LoadJson.Default.AddressBody))) is not null;

    private async Task<string?> CreateCartAsync(Measurement m, long visitor, long start)
    {
        var items = Enumerable.Range(0, 1 + RandomNumberGenerator.GetInt32(2))
            .Select(_ => new CartItem(skus[RandomNumberGenerator.GetInt32(skus.Count)], 1 + RandomNumberGenerator.GetInt32(2)))
            .DistinctBy(i => i.Sku).ToList();
        var reply = await ExpectAsync(m, "POST carts", 201, start,
            () => Post(Url("/api/v2/carts"), visitor, null, JsonContent.Create(new CartBody(items), LoadJson.Default.CartBody)));
        return reply?.Read(LoadJson.Default.CartCreated).CartId;
    }

    private async Task<SessionStarted?> StartSessionAsync(Measurement m, long visitor, string cart, long start)
    {
        var reply = await ExpectAsync(m, "POST session", 201, start,
            () => Post(Url("/api/v2/checkout/guest/session"), visitor, null, JsonContent.Create(new SessionBody(cart, Email(visitor)), LoadJson.Default.SessionBody)));
        var session = reply?.Read(LoadJson.Default.SessionStarted);
        if (session is not null)
        {
            _opened?.Enqueue(new OpenedSession(visitor, cart, session));
        }
        return session;
    }

    /// <summary>A session read; a 401/404/410 is the session lost, counted by its own check.</summary>
    private async Task<Reply?> ReadSessionAsync(Measurement m, long visitor, SessionStarted session, long start, string endpoint = "GET session", bool retry503 = true)
    {
        var reply = await SendAsync(m, endpoint, 200, start, () => Get(SessionUrl(session, ""), visitor, session.SessionToken), [401, 404, 410], retry503);
        checks.SessionRead(found: reply?.Status is not (401 or 404 or 410));
        return reply is { Ok: true } ? reply : null;
    }

    /// <summary>
    /// Pays with the session's token (its saved sections), or with everything in the body when there is
    /// no session; an order paid with a session is the caller's to record.
    /// </summary>
    private async Task<OrderPlaced?> PayAsync(Measurement m, long visitor, string cart, SessionStarted? session, long start)
    {
        var key = Guid.NewGuid().ToString("N");
        var body = session is null
            ? new CheckoutBody(cart, Email(visitor), Address, PaymentMethod)
            : new CheckoutBody(cart, Email(visitor), null, null);
        var reply = await ExpectAsync(m, "POST checkout", 201, start, () =>
        {
            var request = Post(Url("/api/v2/checkout/guest"), visitor, session?.SessionToken, JsonContent.Create(body, LoadJson.Default.CheckoutBody));
            request.Headers.Add("Idempotency-Key", key); // the same key on a retried 503: the shopper's retry, never a second order
            return request;
        });
        var order = reply?.Read(LoadJson.Default.OrderPlaced);
        if (order is null)
        {
            checks.NotPaid(cart);
        }
        else if (session is null)
        {
            checks.OrderPlaced(new PlacedOrder(cart, order.OrderId, order.ConfirmationToken, visitor, LookedUp: false));
        }
        return order;
    }

    private Task<Reply?> LookUpAsync(Measurement m, long visitor, OrderPlaced order, long start) =>
        ExpectAsync(m, "GET order", 200, start, () => Get(Url($"/api/v2/checkout/guest/orders/{order.OrderId}"), visitor, order.ConfirmationToken));

    /// <summary>
    /// After a step: every order has exactly one live charge in the ledger, and can be looked up; a cart
    /// whose checkout gave no order has at most one. Checked step by step, while the simulator still
    /// holds the intents (it keeps the newest 100,000).
    /// </summary>
    public async Task VerifyOrdersAsync(CancellationToken ct)
    {
        var orders = checks.TakeUnverified();
        var options = new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct };
        await Parallel.ForEachAsync(orders, options, async (order, ct) =>
        {
            if (!order.LookedUp)
            {
                var found = await LookUpAsync(Measurement.Discarded, order.Visitor, new OrderPlaced(order.OrderId, order.ConfirmationToken), Now);
                checks.LookedUp(order.OrderId, found is not null);
            }
            if (services.Gateway is not null)
            {
                checks.Charged(order.CartId, await LiveChargesAsync(order.CartId, ct));
            }
        });
        if (services.Gateway is not null)
        {
            await Parallel.ForEachAsync(checks.TakeUnpaid().Distinct(), options, async (cart, ct) => checks.ChargedUnpaid(cart, await LiveChargesAsync(cart, ct)));
        }
    }

    /// <summary>The cart's live charges in the simulator's ledger; -1 when the ledger did not answer.</summary>
    private async Task<int> LiveChargesAsync(string cartId, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(services.Gateway!, $"/api/v1/ledger?cart_id={Uri.EscapeDataString(cartId)}"));
        if (Environment.GetEnvironmentVariable("PAYMENT_GATEWAY_SERVICE_TOKEN") is { Length: > 0 } token)
        {
            request.Headers.Add("X-Service-Auth", "Bearer " + token);
        }
        // A live charge is a succeeded intent: a refunded or voided one keeps its charge id but holds no money.
        return await LedgerAsync(request, ct) is { } ledger ? ledger.Intents.Count(i => i is { Status: "succeeded", ChargeId: not null }) : -1;
    }

    private async Task<Ledger?> LedgerAsync(HttpRequestMessage request, CancellationToken ct)
    {
        try
        {
            using var response = await http.SendAsync(request, ct);
            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync(LoadJson.Default.Ledger, ct) : null;
        }
        catch (HttpRequestException)
        {
            return null; // no ledger to show the charge: counted as a violation, not a crash
        }
    }

    /// <summary>The answer when it had the expected status, else null (the failure is already recorded).</summary>
    private async Task<Reply?> ExpectAsync(Measurement m, string endpoint, int expected, long start, Func<HttpRequestMessage> request) =>
        await SendAsync(m, endpoint, expected, start, request) is { Ok: true } reply ? reply : null;

    /// <summary>
    /// Sends one request and records it; null when no answer came at all. Statuses in <paramref name="lost"/>
    /// are left to the caller's own check. With --allow-503 a 503 is retried after its Retry-After (at most
    /// 5 s, five times), as the page does, unless <paramref name="retry503"/> is false (a probe that keeps
    /// asking on its own); the latency then includes the wait.
    /// </summary>
    private async Task<Reply?> SendAsync(
        Measurement m, string endpoint, int expected, long start, Func<HttpRequestMessage> request, int[]? lost = null, bool retry503 = true)
    {
        for (var attempt = 1; ; attempt++)
        {
            int status;
            byte[] body;
            TimeSpan retryAfter;
            try
            {
                using var message = request();
                using var response = await http.SendAsync(message);
                body = await response.Content.ReadAsByteArrayAsync();
                status = (int)response.StatusCode;
                retryAfter = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
                if (status == 503 && checks.Allow503 && response.Headers.RetryAfter is null)
                {
                    checks.Unexpected(endpoint, "503 without Retry-After"); // the shopper would not know when to come back
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                m.Record(endpoint, start, Now, ok: false);
                m.Timeline?.Record(endpoint, 0, start, Now);
                checks.Unexpected(endpoint, e.GetType().Name);
                return null;
            }
            m.Timeline?.Record(endpoint, status, start, Now);
            if (status == 503 && checks.Allow503 && retry503 && attempt < 5)
            {
                checks.Responded(endpoint, status, expected: false);
                await Task.Delay(retryAfter > TimeSpan.FromSeconds(5) ? TimeSpan.FromSeconds(5) : retryAfter, TimeProvider.System, CancellationToken.None);
                continue;
            }
            var ok = status == expected;
            m.Record(endpoint, start, Now, ok);
            if (endpoint != Measurement.BareEndpoint) // the bare endpoint is the yardstick, not the service under check
            {
                checks.Responded(endpoint, status, expected: ok || (lost?.Contains(status) ?? false), ok ? null : ErrorCode(body));
            }
            return new Reply(status, ok, body);
        }
    }

    public void Dispose() => http.Dispose();

    /// <summary>The service's error code (<c>{"error": …}</c>), to tell one 409 from another in the checks.</summary>
    private static string? ErrorCode(byte[] body)
    {
        try
        {
            return JsonSerializer.Deserialize(body, LoadJson.Default.ErrorBody)?.Error;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private long Visitor() => Interlocked.Increment(ref _visitors);

    private static long Now => Stopwatch.GetTimestamp();

    private Uri SessionUrl(SessionStarted session, string section) => Url($"/api/v2/checkout/guest/session/{session.SessionId}{section}");

    private Uri Url(string path) => new(services.Service!, path);

    private static string Email(long visitor) => $"shopper{visitor}@example.com";

    /// <summary>
    /// Shoppers come through the edge from many addresses (X-Forwarded-For, believed from loopback).
    /// A pool of 8,192 keeps the order look-up's fixed 30 per IP per minute out of the way up to about
    /// 4,000 funnels/s, and the limiter's counters to a few per address.
    /// </summary>
    public static string ClientIp(long visitor)
    {
        var n = visitor % 8192;
        return $"10.0.{n >> 8}.{n & 0xff}";
    }

    private static HttpRequestMessage Get(Uri url, long visitor, string? token = null) => Request(HttpMethod.Get, url, visitor, token, null);
    private static HttpRequestMessage Post(Uri url, long visitor, string? token, HttpContent body) => Request(HttpMethod.Post, url, visitor, token, body);
    private static HttpRequestMessage Put(Uri url, long visitor, string? token, HttpContent body) => Request(HttpMethod.Put, url, visitor, token, body);

    private static HttpRequestMessage Request(HttpMethod method, Uri url, long visitor, string? token, HttpContent? body)
    {
        var request = new HttpRequestMessage(method, url) { Content = body };
        request.Headers.Add("X-Forwarded-For", ClientIp(visitor));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return request;
    }
}

/// <summary>A shopper's session as opened: who (the address it comes from), for which cart, and its token.</summary>
internal sealed record OpenedSession(long Visitor, string CartId, SessionStarted Session);

internal sealed record Reply(int Status, bool Ok, byte[] Body)
{
    public T Read<T>(JsonTypeInfo<T> type) => JsonSerializer.Deserialize(Body, type) ?? throw new JsonException($"empty {typeof(T).Name}");
}

internal sealed record Product(string Sku);
internal sealed record CartItem(string Sku, int Quantity);
internal sealed record CartBody(IReadOnlyList<CartItem> Items);
internal sealed record CartCreated(string CartId);
internal sealed record SessionBody(string CartId, string Email);
internal sealed record SessionStarted(string SessionId, string SessionToken);
internal sealed record SessionView(string CartId, string Email, bool ShippingAddressComplete);
internal sealed record AddressBody(string Line1, string City, string State, string Zip, string Country);
internal sealed record PaymentMethodBody(string PaymentMethodId);
internal sealed record CheckoutBody(string CartId, string Email, AddressBody? ShippingAddress, string? PaymentMethodId);
internal sealed record OrderPlaced(string OrderId, string ConfirmationToken);
internal sealed record LedgerIntent(string IntentId, string Status, string? ChargeId);
internal sealed record Ledger(string CartId, IReadOnlyList<LedgerIntent> Intents, int Charges);
internal sealed record BareAnswer(string Status, long Served);
internal sealed record ErrorBody(string? Error);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(IReadOnlyList<Product>))]
[JsonSerializable(typeof(CartBody))]
[JsonSerializable(typeof(CartCreated))]
[JsonSerializable(typeof(SessionBody))]
[JsonSerializable(typeof(SessionStarted))]
[JsonSerializable(typeof(SessionView))]
[JsonSerializable(typeof(AddressBody))]
[JsonSerializable(typeof(PaymentMethodBody))]
[JsonSerializable(typeof(CheckoutBody))]
[JsonSerializable(typeof(OrderPlaced))]
[JsonSerializable(typeof(Ledger))]
[JsonSerializable(typeof(BareAnswer))]
[JsonSerializable(typeof(ErrorBody))]
internal sealed partial class LoadJson : JsonSerializerContext;
