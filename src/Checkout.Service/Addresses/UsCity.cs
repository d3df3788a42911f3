namespace CheckoutService.Addresses;

/// <summary>City names compared the way the USPS writes them: upper case, no punctuation, single spaces.</summary>
public static class UsCity
{
    /// <summary><c>St. Louis </c> → <c>ST LOUIS</c>.</summary>
    public static string Normalize(string city) => UspsText.Words(city, keepHash: false);

    /// <summary>
    /// The name of <paramref name="place"/> that a normalised city means, or null. <c>ST</c>, <c>FT</c> and
    /// <c>MT</c> at the start read as <c>SAINT</c>, <c>FORT</c> and <c>MOUNT</c>, which is how the ZIP data spells them.
    /// </summary>
    public static string? Match(UsZipPlace place, string normalizedCity)
    {
        ArgumentNullException.ThrowIfNull(place);
        ArgumentNullException.ThrowIfNull(normalizedCity);
        var expanded = Expand(normalizedCity);
        foreach (var city in place.Cities)
        {
            if (city == normalizedCity || city == expanded || Expand(city) == expanded)
            {
                return city;
            }
        }
        return null;
    }

    private static string Expand(string city) =>
        city.StartsWith("ST ", StringComparison.Ordinal) ? "SAINT " + city[3..]
        : city.StartsWith("FT ", StringComparison.Ordinal) ? "FORT " + city[3..]
        : city.StartsWith("MT ", StringComparison.Ordinal) ? "MOUNT " + city[3..]
        : city;
}
