using CheckoutService.Idempotency;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CheckoutService.IntegrationTests;

/// <summary>
/// A request that claimed its Idempotency-Key and then met a store outage (a Redis failover) answers
/// 503 without waiting, and gives the key back once the store returns, so the retry that answer
/// invites runs instead of being told for two minutes that the key is in use.
/// </summary>
public sealed class IdempotencyReleaseTests
{
    private readonly FakeTimeProvider _clock = new(TimeProvider.System.GetUtcNow());

    [Fact]
    public async Task AKeyWhoseReleaseFailed_IsGivenBackWhenTheStoreReturns()
    {
        var down = false;
        var store = new FaultyTables(new InMemoryTables(_clock, 1_000), _ => down);
        var calls = 0;
        var middleware = new IdempotencyMiddleware(context => new IdempotencyGate(inner =>
        {
            calls++;
            down = calls == 1; // the first attempt loses the store mid-request
            inner.Response.StatusCode = calls == 1 ? 503 : 201;
            return Task.CompletedTask;
        }).InvokeAsync(context), store, new Microsoft.AspNetCore.DataProtection.EphemeralDataProtectionProvider(), _clock, NullLogger<IdempotencyMiddleware>.Instance);

        var first = await SendAsync(middleware);
        down = false;
        var tooSoon = await SendAsync(middleware);
        _clock.Advance(TimeSpan.FromSeconds(1));
        var retried = 0;
        var ranAgain = await Eventually.TrueAsync(async () => (retried = await SendAsync(middleware)) == 201, TimeSpan.FromSeconds(10));

        Assert.Equal(503, first);
        Assert.Equal(409, tooSoon); // still held: the release waits for its first retry, a second later
        Assert.True(ranAgain, $"the retry still answered {retried}");
    }

    private static async Task<int> SendAsync(IdempotencyMiddleware middleware)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = "/api/v2/checkout/guest";
        context.Request.Headers[IdempotencyMiddleware.Header] = "retry-after-a-failover";
        context.Request.Body = new MemoryStream("{}"u8.ToArray());
        context.Response.Body = new MemoryStream();
        context.SetEndpoint(new Endpoint(null, new EndpointMetadataCollection(new IdempotentAttribute()), "checkout"));
        await middleware.InvokeAsync(context);
        return context.Response.StatusCode;
    }
}
