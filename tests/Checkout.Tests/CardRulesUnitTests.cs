using Microsoft.Extensions.Time.Testing;
using PaymentGateway.Simulator;

namespace CheckoutService.Tests;

/// <summary>The simulator's card field and Stripe's test cards: what a shopper typing a card meets.</summary>
public class CardRulesUnitTests
{
    private static readonly DateTimeOffset March2026 = new(2026, 3, 15, 12, 0, 0, TimeSpan.Zero);

    private static CardFieldError? ErrorOf(string number, string expiry = "12/34", string cvc = "123", string postalCode = "10001") =>
        CardRules.Check(CardInput.WithExpiry(number, expiry, cvc, postalCode), March2026).Error;

    [Theory]
    [InlineData("4242424242424242", "visa")]
    [InlineData("5555555555554444", "mastercard")]
    [InlineData("2223003122003222", "mastercard")]
    [InlineData("378282246310005", "amex")]
    [InlineData("6011111111111117", "discover")]
    [InlineData("3056930009020004", "diners")]
    [InlineData("3566002020360505", "jcb")]
    [InlineData("6200000000000005", "unionpay")]
    [InlineData("9999999999999995", "unknown")]
    public void BrandOf_StripeTestNumbers_NamesTheirNetwork(string number, string brand) =>
        Assert.Equal(brand, CardRules.BrandOf(number).Name);

    [Theory]
    [InlineData("4242424242424242", true)]
    [InlineData("4242424242424241", false)]
    [InlineData("4000002760003184", true)]
    [InlineData("0", true)]
    [InlineData("", false)]
    public void PassesLuhn_ChecksTheCheckDigit(string digits, bool passes) => Assert.Equal(passes, CardRules.PassesLuhn(digits));

    [Fact]
    public void Check_ValidCardWithSpaces_KeepsDigitsBrandAndFourDigitYear()
    {
        var (card, error) = CardRules.Check(CardInput.WithExpiry("4242 4242 4242 4242", "04 / 28", "123", "SW1A 1AA"), March2026);

        Assert.Null(error);
        Assert.Equal(new CheckedCard("4242424242424242", "visa", 4, 2028, "SW1A 1AA"), card);
    }

    [Theory]
    [InlineData("", "incomplete_number")]
    [InlineData("4242 4242", "incomplete_number")]
    [InlineData("4242424242424241", "invalid_number")]
    [InlineData("4242x42424242424", "invalid_number")]
    [InlineData("42424242424242424", "invalid_number")] // Luhn-valid digits at a length Visa never has
    public void Check_BadNumber_IsRefusedInTheNumberField(string number, string code)
    {
        var error = ErrorOf(number);

        Assert.Equal(code, error?.Code);
        Assert.Equal("number", error?.Field);
    }

    [Theory]
    [InlineData("", "incomplete_expiry")]
    [InlineData("12/", "incomplete_expiry")]
    [InlineData("13/30", "invalid_expiry_month")]
    [InlineData("00/30", "invalid_expiry_month")]
    [InlineData("02/26", "invalid_expiry_year_past")]
    [InlineData("12/2025", "invalid_expiry_year_past")]
    [InlineData("01/99", "invalid_expiry_year")]
    public void Check_BadExpiry_IsRefused(string expiry, string code) => Assert.Equal(code, ErrorOf("4242424242424242", expiry)?.Code);

    [Theory]
    [InlineData("12/30")]
    [InlineData("12 / 30")]
    [InlineData("1230")]
    [InlineData("122030")]
    [InlineData("12/2030")]
    public void WithExpiry_TypedWithOrWithoutTheSlash_IsDecember2030(string expiry) =>
        Assert.Equal((12, 2030), CardRules.Check(CardInput.WithExpiry("4242424242424242", expiry, "123", "10001"), March2026).Card is { } c ? (c.ExpMonth, c.ExpYear) : default);

    [Fact]
    public void Check_ExpiringThisMonth_IsStillGood() => Assert.Null(ErrorOf("4242424242424242", "03/26"));

    [Theory]
    [InlineData("4242424242424242", "12", "incomplete_cvc")]
    [InlineData("4242424242424242", "1234", "incomplete_cvc")]
    [InlineData("378282246310005", "123", "incomplete_cvc")] // American Express asks for four
    [InlineData("378282246310005", "1234", null)]
    public void Check_Cvc_HasTheBrandsLength(string number, string cvc, string? code) => Assert.Equal(code, ErrorOf(number, cvc: cvc)?.Code);

    [Theory]
    [InlineData("")]
    [InlineData("1")]
    [InlineData("<script>")]
    public void Check_MissingOrOddPostalCode_IsRefused(string postalCode) =>
        Assert.Equal("incomplete_zip", ErrorOf("4242424242424242", postalCode: postalCode)?.Code);

    [Theory]
    [InlineData("4242424242424242", null, false)]
    [InlineData("5555555555554444", null, false)]
    [InlineData("4000000000000002", "generic_decline", false)]
    [InlineData("4000000000009995", "insufficient_funds", false)]
    [InlineData("4000000000000069", "expired_card", false)]
    [InlineData("4000000000000127", "incorrect_cvc", false)]
    [InlineData("4000002760003184", null, true)]
    [InlineData("4000000000003220", null, true)]
    public void OfNumber_StripeTestCards_HaveTheirDocumentedOutcome(string number, string? declineCode, bool authenticates)
    {
        var outcome = TestCards.OfNumber(number);

        Assert.Equal(declineCode, outcome.Decline?.DeclineCode);
        Assert.Equal(authenticates, outcome.RequiresAuthentication);
    }

    [Theory]
    [InlineData("pm_card_chargeDeclined", "card_declined", "generic_decline", false)]
    [InlineData("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds", false)]
    [InlineData("pm_card_authenticationRequired", null, null, true)]
    public void OfTestPaymentMethod_StripeTestIds_HaveTheirDocumentedOutcome(string id, string? error, string? declineCode, bool authenticates)
    {
        var outcome = TestCards.OfTestPaymentMethod(id);

        Assert.NotNull(outcome);
        Assert.Equal(error, outcome.Decline?.Error);
        Assert.Equal(declineCode, outcome.Decline?.DeclineCode);
        Assert.Equal(authenticates, outcome.RequiresAuthentication);
    }

    [Fact]
    public void OfTestPaymentMethod_PmCardVisa_IsNotSpecial() => Assert.Null(TestCards.OfTestPaymentMethod("pm_card_visa"));

    [Fact]
    public void Tokenize_ValidCard_GivesAPmIdWithBrandAndLast4AndKeepsNoNumber()
    {
        var vault = new PaymentMethodVault(new FakeTimeProvider(March2026));

        var (method, error) = vault.Tokenize(CardInput.WithExpiry("4000 0000 0000 9995", "12/30", "123", "10001"));

        Assert.Null(error);
        Assert.Matches("^pm_[A-Za-z0-9]{24}$", method!.Id);
        Assert.Equal(("visa", "9995", 12, 2030), (method.Brand, method.Last4, method.ExpMonth, method.ExpYear));
        Assert.Equal("insufficient_funds", method.Outcome.Decline?.DeclineCode);
        Assert.Same(method, vault.Find(method.Id));
        Assert.DoesNotContain("4000000000009995", method.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Tokenize_CardExpiredByTheClock_IsRefused()
    {
        var clock = new FakeTimeProvider(March2026);
        var vault = new PaymentMethodVault(clock);
        var card = CardInput.WithExpiry("4242424242424242", "03/26", "123", "10001");
        Assert.NotNull(vault.Tokenize(card).Method);

        clock.Advance(TimeSpan.FromDays(31));

        Assert.Equal(CardRules.ExpiryInPast, vault.Tokenize(card).Error);
    }

    [Fact]
    public void Tokenize_KeepsOnlyTheNewestMethods()
    {
        var vault = new PaymentMethodVault(new FakeTimeProvider(March2026)) { MaxMethods = 3 };
        var ids = Enumerable.Range(0, 5).Select(_ => vault.Tokenize(CardInput.WithExpiry("4242424242424242", "12/30", "123", "10001")).Method!.Id).ToList();

        Assert.Null(vault.Find(ids[0]));
        Assert.Null(vault.Find(ids[1]));
        Assert.NotNull(vault.Find(ids[4]));
    }
}
