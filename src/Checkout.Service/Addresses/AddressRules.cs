using System.Collections.Frozen;

namespace CheckoutService.Addresses;

/// <summary>
/// Issue 20's address rules as one pure function over the shipped data: US ZIPs must exist and match
/// the state, cities are checked against the ZIP's (a warning only), states become USPS codes and lines
/// follow Publication 28; other countries' postal codes and required fields follow libaddressinput.
/// </summary>
public sealed class AddressRules
{
    private readonly AddressData data;
    private readonly FrozenSet<string> shipsTo;
    private readonly string shipsToList;

    /// <param name="shippingCountries">The ISO 3166-1 alpha-2 codes the store ships to.</param>
    public AddressRules(AddressData data, IEnumerable<string> shippingCountries)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shippingCountries);
        this.data = data;
        var codes = shippingCountries.Select(c => c.Trim().ToUpperInvariant()).ToList();
        var unknown = codes.Where(c => !data.TryGetCountry(c, out _)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Not ISO 3166-1 alpha-2 codes libaddressinput knows: {string.Join(", ", unknown)}", nameof(shippingCountries));
        }
        shipsTo = codes.ToFrozenSet(StringComparer.Ordinal);
        shipsToList = string.Join(", ", codes.Order(StringComparer.Ordinal));
    }

    public IReadOnlySet<string> ShippingCountries => shipsTo;

    public AddressVerdict Validate(AddressInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var errors = new List<AddressIssue>();
        var warnings = new List<AddressIssue>();
        var country = (input.Country ?? "").Trim().ToUpperInvariant();

        if (country.Length == 0)
        {
            errors.Add(new("country", AddressCodes.Required, "Country is required", $"One of {shipsToList}"));
        }
        else if (!shipsTo.Contains(country))
        {
            errors.Add(new("country", AddressCodes.UnsupportedCountry, "We do not ship to this country", $"One of {shipsToList}"));
        }

        NormalizedAddress normalized;
        if (country == "US" && shipsTo.Contains(country))
        {
            normalized = ValidateUs(input, errors, warnings);
        }
        else
        {
            CountryAddressFormat? format = null;
            _ = shipsTo.Contains(country) && data.TryGetCountry(country, out format);
            normalized = ValidateElsewhere(input, country, format, errors);
        }

        return new AddressVerdict(errors.Count == 0, normalized, input, warnings, errors);
    }

    private NormalizedAddress ValidateUs(AddressInput input, List<AddressIssue> errors, List<AddressIssue> warnings)
    {
        var line1 = UspsStreetLine.NormalizeLine1(input.Line1, data);
        var line2 = UspsStreetLine.NormalizeLine2(input.Line2, data);
        var city = UsCity.Normalize(input.City ?? "");
        var stateText = UspsText.Words(input.State);
        var zipText = (input.Zip ?? "").Trim();

        RequireLine1(line1, errors);

        UsZipPlace? place = null;
        var zip = zipText;
        if (zipText.Length == 0)
        {
            errors.Add(new("zip", AddressCodes.Required, "ZIP code is required", "5 digits or ZIP+4"));
        }
        else if (!UsZipCode.TryParse(zipText, out var zip5, out var plus4))
        {
            errors.Add(new("zip", AddressCodes.InvalidPostalCode, "ZIP code is not 5 digits or ZIP+4", "Format like 95014 or 22162-1010"));
        }
        else
        {
            zip = UsZipCode.Format(zip5, plus4);
            if (!data.TryGetZip(zipText, out place))
            {
                errors.Add(new("zip", AddressCodes.UnknownZip, $"ZIP code {zip5:D5} does not exist", "A ZIP code the USPS delivers to"));
            }
        }

        var state = stateText;
        if (stateText.Length == 0)
        {
            errors.Add(new("state", AddressCodes.Required, "State is required", "A USPS state code such as IL, or the state's name", Suggest("state", place?.State)));
        }
        else if (!data.TryGetStateCode(stateText, out var code))
        {
            errors.Add(new("state", AddressCodes.UnknownState, "State is not a US state", "A USPS state code such as IL, or the state's name", Suggest("state", place?.State)));
        }
        else
        {
            state = code;
            if (place is not null && place.State != code)
            {
                errors.Add(new(
                    "state",
                    AddressCodes.ZipStateMismatch,
                    $"ZIP code {zip[..5]} is in {place.State}, not {code}",
                    $"The state of ZIP code {zip[..5]}",
                    Suggest("state", place.State)));
            }
        }

        if (city.Length == 0)
        {
            errors.Add(new("city", AddressCodes.Required, "City is required", "The city of the ZIP code", Suggest("city", place?.PreferredCity)));
        }
        else if (place is not null)
        {
            if (UsCity.Match(place, city) is { } known)
            {
                city = known;
            }
            else
            {
                warnings.Add(new(
                    "city",
                    AddressCodes.CityNotInZip,
                    $"{city} is not a city the data lists for ZIP code {zip[..5]}",
                    $"The cities of ZIP code {zip[..5]}",
                    Suggest("city", place.PreferredCity)));
            }
        }

        return new NormalizedAddress(line1, line2, city, state, zip, "US");
    }

    private static NormalizedAddress ValidateElsewhere(AddressInput input, string country, CountryAddressFormat? format, List<AddressIssue> errors)
    {
        var line1 = UspsText.Collapse(input.Line1);
        var line2 = UspsText.Collapse(input.Line2);
        var city = UspsText.Collapse(input.City);
        var state = UspsText.Collapse(input.State);
        var postalCode = UspsText.Collapse(input.Zip).ToUpperInvariant();
        if (format is null)
        {
            // Country missing or not shipped to: that error is already listed, and there is no format to hold the rest to.
            return new NormalizedAddress(line1, line2, city, state, postalCode, country);
        }

        if (format.Requires('A'))
        {
            RequireLine1(line1, errors);
        }
        if (format.Requires('C') && city.Length == 0)
        {
            errors.Add(new("city", AddressCodes.Required, "City is required", $"Required in {country}"));
        }
        if (format.Requires('S') && state.Length == 0)
        {
            errors.Add(new("state", AddressCodes.Required, $"The {format.StateName} is required", $"Required in {country}"));
        }
        if (postalCode.Length == 0)
        {
            if (format.Requires('Z'))
            {
                errors.Add(new("zip", AddressCodes.Required, "Postal code is required", ExpectedPostalCode(format)));
            }
        }
        else if (!format.HasPostalCodeFormat(postalCode))
        {
            errors.Add(new("zip", AddressCodes.InvalidPostalCode, $"Postal code is not in {country}'s format", ExpectedPostalCode(format)));
        }
        return new NormalizedAddress(line1, line2, city, state, postalCode, country);
    }

    private static void RequireLine1(string line1, List<AddressIssue> errors)
    {
        if (line1.Length == 0)
        {
            errors.Add(new("line1", AddressCodes.Required, "Street address is required", "Street and number"));
        }
    }

    private static string ExpectedPostalCode(CountryAddressFormat format) =>
        format.PostalCodeExample.Length > 0 ? $"Format like {format.PostalCodeExample}" : $"The {format.Code} postal code";

    private static Dictionary<string, string>? Suggest(string field, string? value) =>
        value is null ? null : new() { [field] = value };
}
