using System.Text.Json.Nodes;
using CheckoutService.Accounts;
using CheckoutService.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace CheckoutService.IntegrationTests.Infrastructure;

/// <summary>The mailer's side of an account's email proof: its event in the outbox, opened with the host's key.</summary>
public static class EmailProofs
{
    public static async Task<string> CodeAsync(CheckoutApp app, string accountId)
    {
        ArgumentNullException.ThrowIfNull(app);
        var proof = JsonNode.Parse(Assert.Single(await app.Services.GetRequiredService<Outbox>()
            .ReadAsync(AccountStore.EmailVerificationTopic, accountId, CancellationToken.None)))!;
        Assert.Null(proof["code"]); // never in clear
        return app.Services.GetRequiredService<SealedCode>().Open((string)proof["sealed_code"]!, accountId);
    }
}
