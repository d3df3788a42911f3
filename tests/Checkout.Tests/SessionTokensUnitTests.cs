using CheckoutService.Edge;
using CheckoutService.Sessions;

namespace CheckoutService.Tests;

public class SessionTokensUnitTests
{
    [Fact]
    public void Issue_TokenNamesItsSessionAndMatchesOnlyItsOwnHash()
    {
        var sessionId = SessionTokens.NewSessionId();
        var (token, hash) = SessionTokens.Issue(sessionId);
        var (otherToken, _) = SessionTokens.Issue(sessionId);

        Assert.Equal(sessionId, SessionTokens.SessionIdOf(token));
        Assert.True(SessionTokens.Matches(token, hash));
        Assert.False(SessionTokens.Matches(otherToken, hash));
        Assert.DoesNotContain(token, Convert.ToHexString(hash), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("gst_")]
    [InlineData("gst_not-a-uuid-at-all-not-a-uuid-at-all_x")]
    [InlineData("Bearer gst_x")]
    public void SessionIdOf_GarbageToken_IsNoSession(string? token) => Assert.Null(SessionTokens.SessionIdOf(token));

    [Theory]
    [InlineData("guest:sess:a1b2c3d4-e5f6-7890-abcd-ef1234567890", "guest:sess:a1b2c3d4-e5f6-7890-abcd-ef1234567890")]
    [InlineData("a1b2c3d4-e5f6-7890-abcd-ef1234567890", "guest:sess:a1b2c3d4-e5f6-7890-abcd-ef1234567890")]
    [InlineData("guest:sess:expired-session-uuid", null)]
    [InlineData("../../etc/passwd", null)]
    public void NormalizeSessionId_AcceptsTheKeyOrTheBareUuid(string raw, string? expected) =>
        Assert.Equal(expected, SessionTokens.NormalizeSessionId(raw));

    [Theory]
    [InlineData("Bearer abc", "abc")]
    [InlineData("bearer abc ", "abc")]
    [InlineData("Basic abc", null)]
    [InlineData(null, null)]
    public void FromAuthorization_ReadsOnlyBearerTokens(string? header, string? token) =>
        Assert.Equal(token, BearerToken.From(header));
}
