using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CheckoutService.Edge;

/// <summary>
/// An amount in US cents. Held as an integer so sums are exact; written to JSON as a decimal
/// with exactly two places (<c>129.50</c>), as the API has always written it.
/// </summary>
[JsonConverter(typeof(MoneyJsonConverter))]
public readonly record struct Money(long Cents)
{
    public static readonly Money Zero = new(0);

    /// <summary>The amount in dollars, exact, always with two decimal places (a product's scale is the sum of its factors').</summary>
    public decimal Amount => Cents * 0.01m;

    public static Money FromDecimal(decimal amount)
    {
        if (amount < 0 || decimal.Round(amount, 2) != amount)
        {
            throw new ArgumentOutOfRangeException(nameof(amount), amount, "Money is a non-negative amount with at most two decimal places.");
        }
        return new Money((long)(amount * 100));
    }

    public static Money operator +(Money a, Money b) => new(checked(a.Cents + b.Cents));
    public static Money operator *(Money a, int quantity) => new(checked(a.Cents * quantity));
    public override string ToString() => Amount.ToString("0.00", CultureInfo.InvariantCulture);
}

public sealed class MoneyJsonConverter : JsonConverter<Money>
{
    public override Money Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Money.FromDecimal(reader.GetDecimal());

    public override void Write(Utf8JsonWriter writer, Money value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteNumberValue(value.Amount);
    }
}
