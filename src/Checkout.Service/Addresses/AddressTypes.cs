using System.Text.Json.Serialization;
using CheckoutService.Edge;

namespace CheckoutService.Addresses;

/// <summary>An address as the shopper typed it; any field may be missing.</summary>
public sealed record AddressInput(string? Line1, string? Line2, string? City, string? State, string? Zip, string? Country);

/// <summary>An address in its normalised form: what is stored and shown.</summary>
public sealed record NormalizedAddress(string Line1, string Line2, string City, string State, string Zip, string Country);

/// <summary>
/// An error or warning in the service's field-error shape (<see cref="FieldError"/>), with an optional
/// suggestion <c>{field: value}</c> a client can offer as "Did you mean …?".
/// </summary>
public sealed record AddressIssue(
    string Field,
    string Code,
    string Message,
    string Constraint,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Suggestion = null)
{
    /// <summary>The issue as the existing field error, for bodies that have no room for a suggestion.</summary>
    public FieldError ToFieldError(string prefix = "") =>
        new(prefix.Length == 0 ? Field : $"{prefix}.{Field}", Code, Message, Constraint);
}

/// <summary>
/// The rules' answer. <see cref="Normalized"/> is filled even when the address is not valid, so a page can show it;
/// <see cref="Original"/> is the shopper's, kept beside it. Warnings never make an address invalid.
/// </summary>
public sealed record AddressVerdict(
    bool Valid,
    NormalizedAddress Normalized,
    AddressInput Original,
    IReadOnlyList<AddressIssue> Warnings,
    IReadOnlyList<AddressIssue> Errors);

/// <summary>The codes the address rules answer with; all errors are 422s.</summary>
public static class AddressCodes
{
    public const string Required = "REQUIRED";
    public const string UnknownZip = "UNKNOWN_ZIP";
    public const string ZipStateMismatch = "ZIP_STATE_MISMATCH";
    public const string UnknownState = "UNKNOWN_STATE";
    public const string InvalidPostalCode = "INVALID_POSTAL_CODE";
    public const string UnsupportedCountry = "UNSUPPORTED_COUNTRY";

    /// <summary>A warning, never an error: cities have aliases the data may not list.</summary>
    public const string CityNotInZip = "CITY_NOT_IN_ZIP";
}
