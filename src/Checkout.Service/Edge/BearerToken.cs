namespace CheckoutService.Edge;

/// <summary>Bearer credentials as clients send them.</summary>
public static class BearerToken
{
    /// <summary>The token from <c>Authorization: Bearer …</c>, if there is one.</summary>
    public static string? From(string? authorization) =>
        authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : null;
}
