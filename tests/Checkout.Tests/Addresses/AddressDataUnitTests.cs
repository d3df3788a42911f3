using System.Diagnostics;
using CheckoutService.Addresses;

namespace CheckoutService.Tests.Addresses;

/// <summary>The data is read once per test run; the look-ups are what the rules lean on.</summary>
internal static class ShippedAddressData
{
    public static readonly AddressData Instance = AddressData.LoadEmbedded();
}

[CollectionDefinition(nameof(AddressFootprintRun), DisableParallelization = true)]
public sealed class AddressFootprintRun;

public class AddressDataUnitTests
{
    private static AddressData Data => ShippedAddressData.Instance;

    [Fact]
    public void Load_EmbeddedResource_HoldsEveryZipOfTheSource() => Assert.Equal(42_555, Data.ZipCount);

    [Theory]
    [InlineData("62704", "IL", "SPRINGFIELD")]
    [InlineData("62704-1234", "IL", "SPRINGFIELD")]
    [InlineData("62704 1234", "IL", "SPRINGFIELD")]
    [InlineData("627041234", "IL", "SPRINGFIELD")]
    [InlineData("00501", "NY", "HOLTSVILLE")]
    [InlineData("90210", "CA", "BEVERLY HILLS")]
    public void TryGetZip_KnownZip_GivesItsStateAndPreferredCity(string zip, string state, string city)
    {
        Assert.True(Data.TryGetZip(zip, out var place));
        Assert.Equal((state, city), (place.State, place.PreferredCity));
    }

    [Fact]
    public void TryGetZip_KeepsTheSourceSpellingForShowing()
    {
        Assert.True(Data.TryGetZip("62704", out var place));
        Assert.Equal("Springfield", place.PreferredCityName);
    }

    [Theory]
    [InlineData("00000")]
    [InlineData("6270")]
    [InlineData("62704-12")]
    [InlineData("62704_1234")]
    [InlineData("ABCDE")]
    [InlineData("")]
    public void TryGetZip_UnknownOrMalformed_FindsNothing(string zip) => Assert.False(Data.TryGetZip(zip, out _));

    [Theory]
    [InlineData("IL")]
    [InlineData("il")]
    [InlineData("Illinois")]
    [InlineData("ILLINOIS")]
    [InlineData("Ill.")]
    [InlineData("ill")]
    [InlineData(" Ill. ")]
    public void TryGetStateCode_NamesAndCommonForms_GiveTheUspsCode(string text)
    {
        Assert.True(Data.TryGetStateCode(text, out var code));
        Assert.Equal("IL", code);
    }

    [Theory]
    [InlineData("N. Dak.", "ND")]
    [InlineData("W. Va.", "WV")]
    [InlineData("District of Columbia", "DC")]
    [InlineData("Calif.", "CA")]
    [InlineData("Puerto Rico", "PR")]
    [InlineData("Armed Forces Pacific", "AP")]
    public void TryGetStateCode_OtherForms_GiveTheirCodes(string text, string expected)
    {
        Assert.True(Data.TryGetStateCode(text, out var code));
        Assert.Equal(expected, code);
    }

    [Theory]
    [InlineData("ZZ")]
    [InlineData("Ilinois")]
    [InlineData("")]
    public void TryGetStateCode_Unknown_FindsNothing(string text) => Assert.False(Data.TryGetStateCode(text, out _));

    [Fact]
    public void Countries_FromLibaddressinput_HavePatternsExamplesAndRequiredFields()
    {
        Assert.True(Data.TryGetCountry("CA", out var canada));
        Assert.Equal(("H3Z 2Y7", "ACSZ"), (canada.PostalCodeExample, canada.Required));
        Assert.True(Data.TryGetCountry("US", out var us));
        Assert.Equal(("zip", "state"), (us.PostalCodeName, us.StateName));
        Assert.True(Data.TryGetCountry("AE", out var emirates));
        Assert.Equal("", emirates.PostalCodePattern);
        Assert.Equal(245, Data.CountryCodes.Count());
    }

    [Fact]
    public void Lookups_AfterWarmUp_AllocateNothing()
    {
        var zips = new[] { "62704", "62704-1234", "00501", "00000", "90210" };
        LookUpAll(zips);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            LookUpAll(zips);
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    private static void LookUpAll(string[] zips)
    {
        foreach (var zip in zips)
        {
            _ = Data.TryGetZip(zip, out _);
        }
        _ = Data.TryGetStateCode("Ill.", out _);
        _ = Data.TryGetSuffix("TERRACE", out _);
        _ = Data.TryGetDirectional("NORTH", out _);
        _ = Data.TryGetUnit("APARTMENT", out _);
    }
}

[Collection(nameof(AddressFootprintRun))]
public class AddressDataFootprintUnitTests
{
    [Fact]
    public void Load_TakesUnderTenMegabytes_AndReportsItsCost()
    {
        var output = TestContext.Current.TestOutputHelper!;
        _ = AddressData.LoadEmbedded(); // warm the code paths, so the second load measures the data alone

        var retainedBefore = GC.GetTotalMemory(forceFullCollection: true);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        var data = AddressData.LoadEmbedded();
        var elapsed = clock.Elapsed;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        var retained = GC.GetTotalMemory(forceFullCollection: true) - retainedBefore;
        GC.KeepAlive(data);

        output.WriteLine($"address data: {data.ZipCount} ZIPs, retained {retained / 1024.0 / 1024.0:F2} MB, allocated while loading {allocated / 1024.0 / 1024.0:F2} MB, load {elapsed.TotalMilliseconds:F0} ms");
        Assert.InRange(retained, 1, 10 * 1024 * 1024);
    }
}
