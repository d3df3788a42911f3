namespace CheckoutService.Checkout;

/// <summary>
/// The promise shown to the shopper: the warehouse ships on the next business day after the
/// order, and ground delivery takes three business days more. Business days are Monday to
/// Friday in UTC; the estimate is midnight UTC of the delivery day. See docs/decisions/0003-delivery-estimate.md.
/// </summary>
public static class DeliveryEstimate
{
    public const int TransitBusinessDays = 3;

    public static DateTimeOffset For(DateTimeOffset orderedAt)
    {
        var day = DateOnly.FromDateTime(orderedAt.UtcDateTime);
        day = NextBusinessDay(day); // dispatch
        for (var i = 0; i < TransitBusinessDays; i++)
        {
            day = NextBusinessDay(day);
        }
        return new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
    }

    private static DateOnly NextBusinessDay(DateOnly day)
    {
        do
        {
            day = day.AddDays(1);
        }
        while (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday);
        return day;
    }
}
