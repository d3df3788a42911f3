using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace CheckoutService.Addresses;

/// <summary>A US ZIP code's place: its state and the city names the USPS accepts, preferred first.</summary>
public sealed class UsZipPlace(string state, ImmutableArray<string> cities, string preferredCityName)
{
    /// <summary>The USPS state code, e.g. <c>IL</c>.</summary>
    public string State { get; } = state;

    /// <summary>City names in USPS form (upper case, no punctuation), the preferred one first, then aliases.</summary>
    public ImmutableArray<string> Cities { get; } = cities;

    /// <summary>The preferred city in USPS form, e.g. <c>SPRINGFIELD</c>.</summary>
    public string PreferredCity => Cities[0];

    /// <summary>The preferred city as the source spells it, e.g. <c>Springfield</c>, for showing.</summary>
    public string PreferredCityName { get; } = preferredCityName;
}

/// <summary>A Publication 28 secondary unit designator: its standard form and whether a range (the number) follows it.</summary>
public sealed record UnitDesignator(string Standard, bool TakesRange);

/// <summary>One country's postal-code pattern, example and required fields, from libaddressinput.</summary>
public sealed class CountryAddressFormat
{
    private readonly Lazy<System.Text.RegularExpressions.Regex?> pattern;

    public CountryAddressFormat(string code, string postalCodePattern, string postalCodeExample, string required, string postalCodeName, string stateName)
    {
        Code = code;
        PostalCodePattern = postalCodePattern;
        PostalCodeExample = postalCodeExample;
        Required = required;
        PostalCodeName = postalCodeName;
        StateName = stateName;
        // Built on first use: most of the 245 countries are never asked about, and building them all costs start-up time.
        pattern = new(() => postalCodePattern.Length == 0
            ? null
            : new System.Text.RegularExpressions.Regex(
                $"^(?:{postalCodePattern})$",
                System.Text.RegularExpressions.RegexOptions.CultureInvariant,
                TimeSpan.FromMilliseconds(100)));
    }

    /// <summary>ISO 3166-1 alpha-2.</summary>
    public string Code { get; }

    /// <summary>libaddressinput's <c>zip</c>; empty where the country has no postal codes.</summary>
    public string PostalCodePattern { get; }

    /// <summary>libaddressinput's first <c>zipex</c>, e.g. <c>H3Z 2Y7</c>.</summary>
    public string PostalCodeExample { get; }

    /// <summary>libaddressinput's <c>require</c>: A street, C city, S state or province, Z postal code (others are not asked for).</summary>
    public string Required { get; }

    /// <summary>What the country calls the postal code (<c>zip</c>, <c>postal</c>, <c>pin</c>, <c>eircode</c>), for the field's label.</summary>
    public string PostalCodeName { get; }

    /// <summary>What the country calls the state field (<c>state</c>, <c>province</c>, <c>county</c>, …), for the field's label.</summary>
    public string StateName { get; }

    public bool Requires(char field) => Required.Contains(field, StringComparison.Ordinal);

    /// <summary>Whether an upper-cased postal code has the country's format; true where the country has none.</summary>
    public bool HasPostalCodeFormat(string postalCode) => pattern.Value?.IsMatch(postalCode) ?? true;
}

/// <summary>
/// The address data shipped with the service (<c>Addresses/Data/address-data.txt.br</c>, made by
/// <c>tools/address-data/generate</c>): US ZIPs, US states, USPS Publication 28 tables and every country's
/// postal format. Read once into frozen dictionaries; every look-up after that allocates nothing.
/// </summary>
public sealed class AddressData
{
    public const string ResourceName = "CheckoutService.Addresses.address-data.txt.br";

    private readonly FrozenDictionary<int, UsZipPlace> zips;
    private readonly FrozenDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> stateForms;
    private readonly FrozenDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> suffixes;
    private readonly FrozenDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> directionals;
    private readonly FrozenDictionary<string, UnitDesignator>.AlternateLookup<ReadOnlySpan<char>> units;
    private readonly FrozenDictionary<string, CountryAddressFormat> countries;

    private AddressData(
        FrozenDictionary<int, UsZipPlace> zips,
        FrozenDictionary<string, string> stateForms,
        IReadOnlyList<KeyValuePair<string, string>> states,
        FrozenDictionary<string, string> suffixes,
        FrozenDictionary<string, string> directionals,
        FrozenDictionary<string, UnitDesignator> units,
        FrozenDictionary<string, CountryAddressFormat> countries)
    {
        this.zips = zips;
        this.stateForms = stateForms.GetAlternateLookup<ReadOnlySpan<char>>();
        UsStates = states;
        this.suffixes = suffixes.GetAlternateLookup<ReadOnlySpan<char>>();
        this.directionals = directionals.GetAlternateLookup<ReadOnlySpan<char>>();
        this.units = units.GetAlternateLookup<ReadOnlySpan<char>>();
        this.countries = countries;
    }

    public int ZipCount => zips.Count;

    /// <summary>USPS state codes and their names (states, DC, territories, armed forces), in the data's order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> UsStates { get; }

    /// <summary>Every country libaddressinput knows, by ISO 3166-1 alpha-2 code.</summary>
    public IEnumerable<string> CountryCodes => countries.Keys;

    /// <summary>Reads the data embedded in the service.</summary>
    public static AddressData LoadEmbedded()
    {
        using var stream = typeof(AddressData).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing.");
        return Load(stream);
    }

    /// <summary>Reads brotli-compressed address data.</summary>
    public static AddressData Load(Stream compressed)
    {
        using var brotli = new BrotliStream(compressed, CompressionMode.Decompress, leaveOpen: true);
        using var reader = new StreamReader(brotli, Encoding.UTF8);
        return Parse(reader);
    }

    /// <summary>The place of a ZIP code written as 5 digits or ZIP+4 (<c>62704</c>, <c>62704-1234</c>, <c>62704 1234</c>, <c>627041234</c>).</summary>
    public bool TryGetZip(ReadOnlySpan<char> zip, [NotNullWhen(true)] out UsZipPlace? place)
    {
        place = null;
        return UsZipCode.TryParse(zip, out var zip5, out _) && zips.TryGetValue(zip5, out place);
    }

    /// <summary>The USPS code of a state written as its code, its name or a common form (<c>Illinois</c>, <c>Ill.</c>, <c>ill</c>).</summary>
    public bool TryGetStateCode(ReadOnlySpan<char> text, [NotNullWhen(true)] out string? code)
    {
        // Forms are compared on their upper-cased letters only, as the generator wrote them.
        Span<char> letters = stackalloc char[48];
        var length = 0;
        foreach (var c in text)
        {
            if (!char.IsAsciiLetter(c))
            {
                continue;
            }
            if (length == letters.Length)
            {
                code = null;
                return false;
            }
            letters[length++] = char.ToUpperInvariant(c);
        }
        return stateForms.TryGetValue(letters[..length], out code);
    }

    /// <summary>The Publication 28 suffix abbreviation (<c>TERRACE</c> → <c>TER</c>) of an upper-case word.</summary>
    public bool TryGetSuffix(ReadOnlySpan<char> word, [NotNullWhen(true)] out string? standard) => suffixes.TryGetValue(word, out standard);

    /// <summary>The Publication 28 directional (<c>NORTH</c> → <c>N</c>, <c>NORTH EAST</c> → <c>NE</c>) of upper-case words.</summary>
    public bool TryGetDirectional(ReadOnlySpan<char> words, [NotNullWhen(true)] out string? standard) => directionals.TryGetValue(words, out standard);

    /// <summary>The Publication 28 secondary unit designator (<c>APARTMENT</c> → <c>APT</c>) of an upper-case word.</summary>
    public bool TryGetUnit(ReadOnlySpan<char> word, [NotNullWhen(true)] out UnitDesignator? unit) => units.TryGetValue(word, out unit);

    public bool TryGetCountry(string code, [NotNullWhen(true)] out CountryAddressFormat? format) => countries.TryGetValue(code, out format);

    private static AddressData Parse(StreamReader reader)
    {
        if (reader.ReadLine() is not "#address-data 1")
        {
            throw new InvalidDataException("The address data does not start with its version line.");
        }

        var stateForms = new Dictionary<string, string>(StringComparer.Ordinal);
        var states = new List<KeyValuePair<string, string>>();
        var suffixes = new Dictionary<string, string>(StringComparer.Ordinal);
        var directionals = new Dictionary<string, string>(StringComparer.Ordinal);
        var units = new Dictionary<string, UnitDesignator>(StringComparer.Ordinal);
        var countries = new Dictionary<string, CountryAddressFormat>(StringComparer.Ordinal);
        var zips = new Dictionary<int, UsZipPlace>(45_000);
        // Many ZIPs share a state and city: one place object, and one set of strings, serves them all.
        var places = new Dictionary<string, UsZipPlace>(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        var stateCodes = new Dictionary<string, string>(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();

        var section = "";
        while (reader.ReadLine() is { } line)
        {
            if (line.StartsWith('@'))
            {
                section = line;
                continue;
            }
            switch (section)
            {
                case "@zips":
                    var zip = int.Parse(line.AsSpan(0, 5), NumberStyles.None, CultureInfo.InvariantCulture);
                    var rest = line.AsSpan(6);
                    if (!places.TryGetValue(rest, out var place))
                    {
                        place = NewPlace(rest, stateCodes);
                        places[rest] = place;
                    }
                    zips.Add(zip, place);
                    break;
                case "@states":
                    var s = line.Split('\t');
                    states.Add(new(s[0], s[1]));
                    stateCodes[s[0].AsSpan()] = s[0];
                    foreach (var form in s[2].Split('|'))
                    {
                        stateForms.Add(form, s[0]);
                    }
                    break;
                case "@suffixes":
                    AddForms(suffixes, line.Split('\t'), 1, f => f);
                    break;
                case "@directionals":
                    AddForms(directionals, line.Split('\t'), 1, f => f);
                    break;
                case "@units":
                    var u = line.Split('\t');
                    var designator = new UnitDesignator(u[0], u[1] == "1");
                    AddForms(units, u, 2, _ => designator);
                    break;
                case "@countries":
                    var c = line.Split('\t');
                    countries.Add(c[0], new CountryAddressFormat(c[0], c[1], c[2], c[3], c[4], c[5]));
                    break;
                default:
                    throw new InvalidDataException($"Address data line outside a known section: {line}");
            }
        }

        return new AddressData(
            zips.ToFrozenDictionary(),
            stateForms.ToFrozenDictionary(StringComparer.Ordinal),
            states,
            suffixes.ToFrozenDictionary(StringComparer.Ordinal),
            directionals.ToFrozenDictionary(StringComparer.Ordinal),
            units.ToFrozenDictionary(StringComparer.Ordinal),
            countries.ToFrozenDictionary(StringComparer.Ordinal));
    }

    private static void AddForms<T>(Dictionary<string, T> table, string[] columns, int formsColumn, Func<string, T> value)
    {
        var standard = columns[0];
        foreach (var form in columns[formsColumn].Split('|'))
        {
            table.Add(form, value(standard));
        }
    }

    private static UsZipPlace NewPlace(ReadOnlySpan<char> stateAndCities, Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> stateCodes)
    {
        var state = stateCodes.TryGetValue(stateAndCities[..2], out var code)
            ? code
            : throw new InvalidDataException($"Unknown state in address data: {stateAndCities}");
        var names = stateAndCities[3..].ToString().Split('|');
        var cities = names.Select(UsCity.Normalize).ToImmutableArray();
        return new UsZipPlace(state, cities, names[0]);
    }
}
