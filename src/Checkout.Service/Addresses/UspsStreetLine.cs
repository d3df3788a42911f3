namespace CheckoutService.Addresses;

/// <summary>
/// Street lines in USPS Publication 28 form: <c>742 Evergreen Terrace North Apartment 5</c> →
/// <c>742 EVERGREEN TER N APT 5</c>. Only the last suffix is abbreviated (<c>PARK AVENUE</c> → <c>PARK AVE</c>),
/// and a directional or suffix that is the street's only name word stays spelled out (<c>100 NORTH AVE</c>).
/// </summary>
public static class UspsStreetLine
{
    /// <summary>The first address line: house number, pre-directional, name, suffix, post-directional, then a unit.</summary>
    public static string NormalizeLine1(string? line, AddressData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var words = UspsText.Split(line);
        var unit = TakeUnit(words, data);
        NormalizeStreet(words, data);
        words.AddRange(unit);
        return string.Join(' ', words);
    }

    /// <summary>The second address line, which is usually a unit alone: <c>Suite 200</c> → <c>STE 200</c>, <c>#5</c> → <c># 5</c>.</summary>
    public static string NormalizeLine2(string? line, AddressData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var words = UspsText.Split(line);
        if (words.Count > 0 && data.TryGetUnit(words[0], out var unit))
        {
            words[0] = unit.Standard;
            DropHashAfterDesignator(words, 0);
        }
        return string.Join(' ', words);
    }

    /// <summary>
    /// Removes a trailing unit (<c>APARTMENT 5</c>, <c>APT # 5</c>, <c>REAR</c>) and returns it in standard form.
    /// A unit is only read at the end, after at least a number and a name, so <c>1 Lot Street</c> keeps its LOT.
    /// </summary>
    private static List<string> TakeUnit(List<string> words, AddressData data)
    {
        var n = words.Count;
        for (var start = n - 3; start <= n - 1; start++)
        {
            if (start < 2 || !data.TryGetUnit(words[start], out var unit))
            {
                continue;
            }
            var tail = words.GetRange(start, n - start);
            var fits = (tail.Count, unit.TakesRange) switch
            {
                (1, false) => true,
                (2, true) => tail[1] != "#",
                (3, true) => tail[1] == "#" && unit.Standard != "#",
                _ => false,
            };
            if (!fits)
            {
                continue;
            }
            tail[0] = unit.Standard;
            DropHashAfterDesignator(tail, 0);
            words.RemoveRange(start, n - start);
            return tail;
        }
        return [];
    }

    private static void DropHashAfterDesignator(List<string> words, int designator)
    {
        if (words[designator] != "#" && words.Count > designator + 2 && words[designator + 1] == "#")
        {
            words.RemoveAt(designator + 1);
        }
    }

    private static void NormalizeStreet(List<string> words, AddressData data)
    {
        // The name starts after the house number when there is one.
        var nameStart = words.Count > 0 && words[0].Any(char.IsAsciiDigit) ? 1 : 0;

        string? postDirectional = null;
        if (TryDirectionalAtEnd(words, data, nameStart, out var directional, out var length))
        {
            words.RemoveRange(words.Count - length, length);
            postDirectional = directional;
        }

        var last = words.Count - 1;
        if (last > nameStart && data.TryGetSuffix(words[last], out var suffix))
        {
            words[last] = suffix;
        }
        else
        {
            last = words.Count;
        }

        // A pre-directional needs a name word between it and the suffix (or the end).
        if (TryDirectionalAt(words, data, nameStart, out directional, out length) && nameStart + length < last)
        {
            words.RemoveRange(nameStart, length);
            words.Insert(nameStart, directional);
        }

        if (postDirectional is not null)
        {
            words.Add(postDirectional);
        }
    }

    private static bool TryDirectionalAtEnd(List<string> words, AddressData data, int nameStart, out string directional, out int length)
    {
        for (length = 2; length >= 1; length--)
        {
            var start = words.Count - length;
            // At least one name word must stay before it.
            if (start > nameStart && data.TryGetDirectional(string.Join(' ', words.GetRange(start, length)), out var found))
            {
                directional = found;
                return true;
            }
        }
        directional = "";
        return false;
    }

    private static bool TryDirectionalAt(List<string> words, AddressData data, int start, out string directional, out int length)
    {
        for (length = 2; length >= 1; length--)
        {
            if (start + length <= words.Count && data.TryGetDirectional(string.Join(' ', words.GetRange(start, length)), out var found))
            {
                directional = found;
                return true;
            }
        }
        directional = "";
        return false;
    }
}
