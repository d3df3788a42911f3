namespace CheckoutService.Flags;

/// <summary>
/// A flag as operators set it: on or killed, the share of visitor buckets (0–99) it serves, and the
/// regions it serves (<c>*</c> for all). <see cref="Version"/> counts changes, so a replica can tell
/// it has the newest.
/// </summary>
public sealed record FlagState(string Name, bool Enabled, int Percent, IReadOnlyList<string> Regions, long Version, DateTimeOffset UpdatedAt, string UpdatedBy)
{
    public const string GuestCheckoutV2 = "guest_checkout_v2";

    /// <summary>The log's ramp: 5, 25, 50, then 100 %; 0 holds it without killing it.</summary>
    public static readonly int[] RampSteps = [0, 5, 25, 50, 100];

    public bool ServesRegion(string region) => Serves(Regions, region);

    /// <summary>Whether targeting to <paramref name="regions"/> reaches <paramref name="region"/>: named, or <c>*</c>.</summary>
    public static bool Serves(IReadOnlyList<string> regions, string region) =>
        regions.Contains("*") || regions.Contains(region, StringComparer.OrdinalIgnoreCase);

    public static IReadOnlyList<string> ParseRegions(string regions) =>
        [.. regions.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}
