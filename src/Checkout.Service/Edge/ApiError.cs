using System.Reflection;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Metadata;
using FluentValidation.Results;

namespace CheckoutService.Edge;

/// <summary>
/// The API's error body: <c>{"error","message","request_id"}</c>. A 402 adds what the client acts on:
/// a decline's <c>decline_code</c>, or the 3-D Secure step's <c>next_action</c> and <c>client_secret</c>.
/// </summary>
public sealed record ErrorBody(
    string Error,
    string Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? RetryAfterSeconds,
    string RequestId)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? DeclineCode { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public NextActionBody? NextAction { get; init; }

    /// <summary>The payment intent's client secret, for Stripe.js's <c>handleNextAction</c>; redacted from every log as <c>cs_***</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ClientSecret { get; init; }
}

/// <summary>Stripe's <c>next_action</c>: where the shopper goes to authenticate (<c>type</c> is <c>redirect_to_url</c>).</summary>
public sealed record NextActionBody(string Type, string Url);

/// <summary>The API's validation body: every failing field at once.</summary>
public sealed record ValidationBody(IReadOnlyList<FieldError> Errors, string RequestId);

public sealed record FieldError(string Field, string Code, string Message, string Constraint);

/// <summary>
/// The one place error responses are built. The request id is filled in when the result runs,
/// so handlers can return an error without carrying the HttpContext around.
/// </summary>
public sealed record ApiError : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    /// <summary>
    /// The statuses any endpoint's error may have, described in the OpenAPI document with this body;
    /// an endpoint with more (checkout's 402 and 502) adds them itself.
    /// </summary>
    private static readonly int[] DocumentedStatuses = [400, 404, 409, 413, 415, 429, 503];

    private ApiError(NamedError error) => Error = error;

    public NamedError Error { get; }
    public int StatusCode => Error.Status;
    int? IStatusCodeHttpResult.StatusCode => StatusCode;
    public string Code => Error.Code;
    public string Message => Error.Message;
    public int? RetryAfterSeconds => Error.RetryAfterSeconds;

    /// <summary>Stripe's reason for a decline, so a client can word it (402 <c>PAYMENT_DECLINED</c>).</summary>
    public string? DeclineCode { get; init; }

    /// <summary>The 3-D Secure step (402 <c>AUTHENTICATION_REQUIRED</c>).</summary>
    public NextActionBody? NextAction { get; init; }

    public string? ClientSecret { get; init; }

    /// <summary>The error as a response; the catalogue (<see cref="Errors"/>) names every one.</summary>
    public static ApiError Of(NamedError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new(error);
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var status in DocumentedStatuses)
        {
            builder.Metadata.Add(new ProducesResponseTypeMetadata(status, typeof(ErrorBody), ["application/json"]));
        }
    }

    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        httpContext.Response.StatusCode = StatusCode;
        if (RetryAfterSeconds is { } seconds)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var body = new ErrorBody(Code, Message, RetryAfterSeconds, httpContext.TraceIdentifier)
        {
            DeclineCode = DeclineCode,
            NextAction = NextAction,
            ClientSecret = ClientSecret,
        };
        return httpContext.Response.WriteAsJsonAsync(body, EdgeJson.Default.ErrorBody);
    }
}

/// <summary>422 with every failing field listed.</summary>
public sealed class ValidationFailed(IReadOnlyList<FieldError> errors) : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status422UnprocessableEntity, typeof(ValidationBody), ["application/json"]));
    }

    public IReadOnlyList<FieldError> Errors { get; } = errors;
    public int StatusCode => StatusCodes.Status422UnprocessableEntity;
    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    public static ValidationFailed One(string field, string code, string message, string constraint) =>
        new([new FieldError(field, code, message, constraint)]);

    /// <summary>FluentValidation's failures in the API's shape; <paramref name="prefix"/> nests them (<c>shipping_address</c>).</summary>
    public static IReadOnlyList<FieldError> ErrorsOf(ValidationResult result, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Errors.Select(e =>
        {
            var field = FieldPath.FromPropertyPath(e.PropertyName);
            return new FieldError(prefix.Length == 0 ? field : $"{prefix}.{field}", e.ErrorCode, e.ErrorMessage, e.CustomState as string ?? "");
        }).ToList();
    }

    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        httpContext.Response.StatusCode = StatusCode;
        return httpContext.Response.WriteAsJsonAsync(
            new ValidationBody(Errors, httpContext.TraceIdentifier), EdgeJson.Default.ValidationBody);
    }
}
