using System.Globalization;
using System.Text.Json;
using CheckoutService.Edge;
using CsCheck;

namespace CheckoutService.Tests;

/// <summary>Money's arithmetic over the whole range a checkout can meet, refunds (negative cents) included.</summary>
public class MoneyPropertyUnitTests
{
    /// <summary>A trillion dollars either way: far past any cart, well inside long and decimal.</summary>
    private static readonly Gen<long> Cents = Gen.Long[-100_000_000_000_000, 100_000_000_000_000];

    [Fact]
    public void Amount_IsCentsOverAHundred_WithItsSign() =>
        Cents.Sample(cents => new Money(cents).Amount == cents / 100m);

    [Fact]
    public void Amount_AlwaysHasTwoDecimalPlaces() =>
        Cents.Sample(cents =>
        {
            var text = new Money(cents).ToString();
            return text[^3] == '.' && decimal.Parse(text, CultureInfo.InvariantCulture) * 100 == cents;
        });

    [Fact]
    public void Addition_IsExact() =>
        Gen.Select(Cents, Cents).Sample((a, b) =>
            (new Money(a) + new Money(b)).Cents == a + b && (new Money(a) + new Money(b)).Amount == new Money(a).Amount + new Money(b).Amount);

    [Fact]
    public void TimesQuantity_IsExact() =>
        Gen.Select(Gen.Long[0, 10_000_000], Gen.Int[0, 99]).Sample((cents, quantity) =>
            (new Money(cents) * quantity).Amount == new Money(cents).Amount * quantity);

    [Fact]
    public void NonNegativeAmounts_RoundTripThroughJson() =>
        Gen.Long[0, 100_000_000_000_000].Sample(cents =>
            JsonSerializer.Deserialize<Money>(JsonSerializer.Serialize(new Money(cents))).Cents == cents);

    [Fact]
    public void FiveCentsOwed_ReadsAsMinusFiveCents() =>
        Assert.Equal(-0.05m, new Money(-5).Amount);
}
