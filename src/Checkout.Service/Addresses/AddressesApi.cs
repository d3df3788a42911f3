using System.Text.Json;
using System.Text.Json.Serialization;
using CheckoutService.Edge;
using CheckoutService.RateLimits;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CheckoutService.Addresses;

/// <summary>
/// <c>POST /api/v2/addresses/validate</c>: the address rules (<see cref="AddressRules"/>) as a look-up a
/// page can call while the shopper types. It always answers 200 with a verdict; the checkout and the
/// session's address section apply the same rules. The data loads on the first use, once per process.
/// </summary>
public static class AddressesApi
{
    public const string Path = "/api/v2/addresses/validate";

    public static IServiceCollection AddAddresses(this IServiceCollection services)
    {
        services.AddOptions<CheckoutSettings>()
            .Validate(s => Codes(s.ShippingCountries) is { Length: > 0 } codes && codes.All(c => c.Length == 2 && c.All(char.IsAsciiLetterUpper)),
                "SHIPPING_COUNTRIES must be ISO 3166-1 alpha-2 codes, comma-separated (US,CA,GB).");
        services.AddSingleton(_ => AddressData.LoadEmbedded());
        services.AddSingleton(sp => new AddressRules(sp.GetRequiredService<AddressData>(),
            Codes(sp.GetRequiredService<IOptions<CheckoutSettings>>().Value.ShippingCountries)));
        return services.AddApiJson(AddressesJson.Default);
    }

    public static IEndpointRouteBuilder MapAddresses(this IEndpointRouteBuilder app)
    {
        app.MapPost(Path, Validate)
            .WithSummary("Check and normalise a shipping address")
            .WithDescription("US ZIPs must exist and belong to the state; a city that is not the ZIP's is a warning with a suggestion, never an error. "
                + "Other countries: the postal-code format and required fields of Google's libaddressinput. Always 200 with the verdict.")
            .PerClientPerMinute("address-validate", app.ServiceProvider.GetRequiredService<IOptions<CheckoutSettings>>().Value.AddressValidationRateLimitPerMinute);
        return app;
    }

    public static Ok<AddressValidation> Validate(AddressInput address, AddressRules rules)
    {
        var verdict = rules.Validate(address);
        return TypedResults.Ok(new AddressValidation(verdict.Valid, verdict.Normalized, verdict.Warnings, verdict.Errors));
    }

    private static string[] Codes(string setting) =>
        setting.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(c => c.ToUpperInvariant()).ToArray();
}

/// <summary>The endpoint's answer: whether the address may be shipped to, its normalised form, and what to say about it.</summary>
public sealed record AddressValidation(bool Valid, NormalizedAddress Normalized, IReadOnlyList<AddressIssue> Warnings, IReadOnlyList<AddressIssue> Errors);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(AddressInput))]
[JsonSerializable(typeof(AddressValidation))]
internal sealed partial class AddressesJson : JsonSerializerContext;
