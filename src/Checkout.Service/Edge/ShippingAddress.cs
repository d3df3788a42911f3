using System.Collections.Frozen;
using FluentValidation;

namespace CheckoutService.Edge;

public sealed record ShippingAddress(string? Line1, string? Line2, string? City, string? State, string? Zip, string? Country)
{
    /// <summary>As kept on sessions and orders: upper-case state and country codes.</summary>
    public ShippingAddress Normalized() => this with { State = State?.ToUpperInvariant(), Country = Country?.ToUpperInvariant() };
}

/// <summary>US shipping addresses: the only country guest checkout v2 ships to.</summary>
public sealed class ShippingAddressValidator : AbstractValidator<ShippingAddress>
{
    private static readonly FrozenSet<string> StateCodes = new[]
    {
        "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY",
        "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND",
        "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
        "DC", "PR", "VI", "GU", "AS", "MP", "AA", "AE", "AP",
    }.ToFrozenSet(StringComparer.Ordinal);

    public ShippingAddressValidator()
    {
        RuleLevelCascadeMode = CascadeMode.Stop;

        RuleFor(a => a.Line1).Required("Address line 1").Text(100, "Address line 1");
        RuleFor(a => a.Line2).Text(100, "Address line 2");
        RuleFor(a => a.City).Required("City").Text(64, "City");
        RuleFor(a => a.State).Required("State")
            .Must(s => StateCodes.Contains(s!))
            .Fails(FieldCodes.InvalidValue, "State is not a US state code", "Two-letter USPS state code, e.g. IL");
        RuleFor(a => a.Zip).Required("ZIP code")
            .Matches(@"^\d{5}(-\d{4})?$")
            .Fails(FieldCodes.InvalidFormat, "ZIP code is not valid", "ZIP (12345) or ZIP+4 (12345-6789)");
        RuleFor(a => a.Country).Required("Country")
            .Equal("US")
            .Fails(FieldCodes.UnsupportedCountry, "We only ship to the United States", "Country code US");
    }
}
