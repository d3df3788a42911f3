using CheckoutService.Addresses;

namespace CheckoutService.Tests.Addresses;

public class AddressRulesUnitTests
{
    private static readonly AddressRules Rules = new(ShippedAddressData.Instance, ["US", "CA", "GB", "DE"]);
    private static readonly AddressInput Springfield = new("742 Evergreen Terrace", "", "Springfield", "IL", "62704", "US");

    private static AddressVerdict Validate(AddressInput input) => Rules.Validate(input);

    private static (string Field, string Code) Of(AddressIssue issue) => (issue.Field, issue.Code);

    [Fact]
    public void Validate_KnownUsAddress_IsValidWithNoWarnings()
    {
        var verdict = Validate(Springfield);
        Assert.True(verdict.Valid);
        Assert.Empty(verdict.Errors);
        Assert.Empty(verdict.Warnings);
        Assert.Equal(new NormalizedAddress("742 EVERGREEN TER", "", "SPRINGFIELD", "IL", "62704", "US"), verdict.Normalized);
    }

    [Fact]
    public void Validate_KeepsTheShoppersOriginalBesideTheNormalizedForm()
    {
        var input = Springfield with { Line1 = "742 Evergreen Terrace North Apartment 5", State = "Illinois" };
        var verdict = Validate(input);
        Assert.Same(input, verdict.Original);
        Assert.Equal("742 EVERGREEN TER N APT 5", verdict.Normalized.Line1);
        Assert.Equal("IL", verdict.Normalized.State);
    }

    [Fact]
    public void Validate_ZipOfAnotherState_IsZipStateMismatchSuggestingTheZipsState()
    {
        var verdict = Validate(Springfield with { City = "Springfeld", State = "CA" });
        Assert.False(verdict.Valid);
        var error = Assert.Single(verdict.Errors);
        Assert.Equal(("state", AddressCodes.ZipStateMismatch), Of(error));
        Assert.Equal(new Dictionary<string, string> { ["state"] = "IL" }, error.Suggestion);
    }

    [Fact]
    public void Validate_CityNotOfTheZip_IsOnlyAWarningSuggestingThePreferredCity()
    {
        var verdict = Validate(Springfield with { City = "Springfeld" });
        Assert.True(verdict.Valid);
        Assert.Empty(verdict.Errors);
        var warning = Assert.Single(verdict.Warnings);
        Assert.Equal(("city", AddressCodes.CityNotInZip), Of(warning));
        Assert.Equal(new Dictionary<string, string> { ["city"] = "SPRINGFIELD" }, warning.Suggestion);
        Assert.Equal("SPRINGFELD", verdict.Normalized.City);
    }

    [Theory]
    [InlineData("springfield")]
    [InlineData("  SPRINGFIELD ")]
    [InlineData("Springfield.")]
    public void Validate_CityOfTheZipInAnyCase_HasNoWarning(string city)
    {
        var verdict = Validate(Springfield with { City = city });
        Assert.Empty(verdict.Warnings);
        Assert.Equal("SPRINGFIELD", verdict.Normalized.City);
    }

    [Fact]
    public void Validate_SaintWrittenSt_MatchesTheZipsCity()
    {
        // 63101 is Saint Louis in the data; shoppers write St. Louis.
        var verdict = Validate(new AddressInput("1 Main St", "", "St. Louis", "MO", "63101", "US"));
        Assert.Empty(verdict.Warnings);
        Assert.Equal("SAINT LOUIS", verdict.Normalized.City);
    }

    [Fact]
    public void Validate_UnknownZip_IsUnknownZip()
    {
        var verdict = Validate(Springfield with { Zip = "00000" });
        Assert.Equal(("zip", AddressCodes.UnknownZip), Of(Assert.Single(verdict.Errors)));
        Assert.Empty(verdict.Warnings);
    }

    [Theory]
    [InlineData("62704-1234", "62704-1234")]
    [InlineData("62704 1234", "62704-1234")]
    [InlineData("627041234", "62704-1234")]
    [InlineData(" 62704 ", "62704")]
    public void Validate_ZipPlusFour_IsValidInUspsForm(string zip, string normalized)
    {
        var verdict = Validate(Springfield with { Zip = zip });
        Assert.True(verdict.Valid);
        Assert.Equal(normalized, verdict.Normalized.Zip);
    }

    [Theory]
    [InlineData("6270")]
    [InlineData("62704-12")]
    [InlineData("ABCDE")]
    public void Validate_MalformedZip_IsInvalidPostalCodeWithTheFormat(string zip)
    {
        var error = Assert.Single(Validate(Springfield with { Zip = zip }).Errors);
        Assert.Equal(("zip", AddressCodes.InvalidPostalCode), Of(error));
        Assert.Contains("95014", error.Constraint, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Illinois")]
    [InlineData("ill.")]
    [InlineData("Ill")]
    [InlineData("il")]
    public void Validate_StateNamesAndCommonForms_BecomeUspsCodes(string state)
    {
        var verdict = Validate(Springfield with { State = state });
        Assert.True(verdict.Valid);
        Assert.Equal("IL", verdict.Normalized.State);
    }

    [Fact]
    public void Validate_UnknownState_IsUnknownStateSuggestingTheZipsState()
    {
        var error = Assert.Single(Validate(Springfield with { State = "Ilinoys" }).Errors);
        Assert.Equal(("state", AddressCodes.UnknownState), Of(error));
        Assert.Equal("IL", error.Suggestion!["state"]);
    }

    [Fact]
    public void Validate_MissingCityAndState_AreRequiredAndSuggestTheZipsPlace()
    {
        var verdict = Validate(Springfield with { City = "", State = null });
        Assert.Equal([("state", AddressCodes.Required), ("city", AddressCodes.Required)], verdict.Errors.Select(Of).ToArray());
        Assert.Equal("IL", verdict.Errors[0].Suggestion!["state"]);
        Assert.Equal("SPRINGFIELD", verdict.Errors[1].Suggestion!["city"]);
    }

    [Fact]
    public void Validate_EveryFailingUsFieldIsListedAtOnce()
    {
        var verdict = Validate(new AddressInput(" ", null, null, "Atlantis", "00000", "us"));
        Assert.Equal(
            [("line1", AddressCodes.Required), ("zip", AddressCodes.UnknownZip), ("state", AddressCodes.UnknownState), ("city", AddressCodes.Required)],
            verdict.Errors.Select(Of).ToArray());
    }

    [Theory]
    [InlineData("K1A 0B1")]
    [InlineData("k1a 0b1")]
    [InlineData("K1A0B1")]
    public void Validate_CanadianPostalCode_IsValid(string postalCode)
    {
        var verdict = Validate(new AddressInput("24 Sussex Drive", "", "Ottawa", "ON", postalCode, "CA"));
        Assert.True(verdict.Valid);
        Assert.Equal(postalCode.ToUpperInvariant(), verdict.Normalized.Zip);
    }

    [Fact]
    public void Validate_CanadaWithFiveDigits_IsInvalidPostalCodeWithTheExpectedFormat()
    {
        var error = Assert.Single(Validate(new AddressInput("24 Sussex Drive", "", "Ottawa", "ON", "12345", "CA")).Errors);
        Assert.Equal(("zip", AddressCodes.InvalidPostalCode), Of(error));
        Assert.Equal("Format like H3Z 2Y7", error.Constraint);
    }

    [Theory]
    [InlineData("DE", "10115", true)]
    [InlineData("DE", "1011", false)]
    [InlineData("DE", "SW1A 1AA", false)]
    [InlineData("GB", "SW1A 1AA", true)]
    [InlineData("GB", "sw1a 1aa", true)]
    [InlineData("GB", "12345", false)]
    public void Validate_PostalCodeFormats_FollowLibaddressinput(string country, string postalCode, bool valid)
    {
        var verdict = Validate(new AddressInput("1 High Street", "", "London", "", postalCode, country));
        Assert.Equal(valid, verdict.Valid);
        if (!valid)
        {
            Assert.Equal(("zip", AddressCodes.InvalidPostalCode), Of(Assert.Single(verdict.Errors)));
        }
    }

    [Fact]
    public void Validate_RequiredFields_FollowLibaddressinput()
    {
        // Canada requires street, city, province and postal code; Germany no state.
        var canada = Validate(new AddressInput("", "", "", "", "", "CA"));
        Assert.Equal(["line1", "city", "state", "zip"], canada.Errors.Select(e => e.Field).ToArray());
        var germany = Validate(new AddressInput("", "", "", "", "", "DE"));
        Assert.Equal(["line1", "city", "zip"], germany.Errors.Select(e => e.Field).ToArray());
    }

    [Theory]
    [InlineData("FR")]
    [InlineData("XX")]
    [InlineData("USA")]
    public void Validate_CountryOutsideTheShippingSet_IsUnsupported(string country)
    {
        var error = Assert.Single(Validate(Springfield with { Country = country }).Errors);
        Assert.Equal(("country", AddressCodes.UnsupportedCountry), Of(error));
        Assert.Equal("One of CA, DE, GB, US", error.Constraint);
    }

    [Fact]
    public void Validate_MissingCountry_IsRequired() =>
        Assert.Equal(("country", AddressCodes.Required), Of(Assert.Single(Validate(Springfield with { Country = null }).Errors)));

    [Fact]
    public void Validate_ShippingSetIsConfigurable()
    {
        var franceOnly = new AddressRules(ShippedAddressData.Instance, ["fr"]);
        Assert.True(franceOnly.Validate(new AddressInput("8 Rue de Rivoli", "", "Paris", "", "75001", "FR")).Valid);
        Assert.Equal(AddressCodes.UnsupportedCountry, Assert.Single(franceOnly.Validate(Springfield).Errors).Code);
    }

    [Fact]
    public void New_ShippingSetWithAnUnknownCode_FailsAtStartUp() =>
        Assert.Throws<ArgumentException>(() => new AddressRules(ShippedAddressData.Instance, ["US", "XX"]));

    [Fact]
    public void ToFieldError_DropsTheSuggestionAndPrefixesTheField()
    {
        var error = Assert.Single(Validate(Springfield with { State = "CA" }).Errors);
        var field = error.ToFieldError("shipping_address");
        Assert.Equal(("shipping_address.state", AddressCodes.ZipStateMismatch), (field.Field, field.Code));
    }
}
