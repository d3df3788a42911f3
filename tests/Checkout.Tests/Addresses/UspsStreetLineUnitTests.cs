using CheckoutService.Addresses;

namespace CheckoutService.Tests.Addresses;

public class UspsStreetLineUnitTests
{
    private static AddressData Data => ShippedAddressData.Instance;

    [Theory]
    [InlineData("742 Evergreen Terrace North Apartment 5", "742 EVERGREEN TER N APT 5")]
    [InlineData("742   evergreen   terrace", "742 EVERGREEN TER")]
    [InlineData("123 Main Street", "123 MAIN ST")]
    [InlineData("123 Main St.", "123 MAIN ST")]
    [InlineData("1600 Pennsylvania Avenue Northwest", "1600 PENNSYLVANIA AVE NW")]
    [InlineData("1600 Pennsylvania Ave North West", "1600 PENNSYLVANIA AVE NW")]
    [InlineData("500 South Lake Shore Drive", "500 S LAKE SHORE DR")]
    [InlineData("10 Park Avenue", "10 PARK AVE")]
    [InlineData("100 North Avenue", "100 NORTH AVE")]
    [InlineData("100 Avenue", "100 AVENUE")]
    [InlineData("1 Lot Street", "1 LOT ST")]
    [InlineData("221 Baker Boulevard Suite 200", "221 BAKER BLVD STE 200")]
    [InlineData("9 Elm Lane Apt #5", "9 ELM LN APT 5")]
    [InlineData("9 Elm Lane #5", "9 ELM LN # 5")]
    [InlineData("9 Elm Lane Rear", "9 ELM LN REAR")]
    [InlineData("12-14 Old Mill Road, Building 3", "12-14 OLD MILL RD BLDG 3")]
    [InlineData("", "")]
    public void NormalizeLine1_FollowsPublication28(string line, string expected) =>
        Assert.Equal(expected, UspsStreetLine.NormalizeLine1(line, Data));

    [Theory]
    [InlineData("Apartment 5", "APT 5")]
    [InlineData("Suite 200", "STE 200")]
    [InlineData("apt. #12b", "APT 12B")]
    [InlineData("#5", "# 5")]
    [InlineData("Floor 3", "FL 3")]
    [InlineData("c/o  Jane  Doe", "C/O JANE DOE")]
    [InlineData(null, "")]
    public void NormalizeLine2_StandardizesTheUnit(string? line, string expected) =>
        Assert.Equal(expected, UspsStreetLine.NormalizeLine2(line, Data));
}
