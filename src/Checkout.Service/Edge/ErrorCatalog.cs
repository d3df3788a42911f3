namespace CheckoutService.Edge;

/// <summary>
/// An error the API answers with: its status, its code on the wire, what it says (a default, or a
/// more exact message through <see cref="Saying"/>) and, for one worth retrying, when.
/// A plain value, so a use case can return one without knowing about HTTP; <see cref="ApiError"/> writes it.
/// </summary>
public sealed record NamedError(int Status, string Code, string Message, int? RetryAfterSeconds = null)
{
    public NamedError Saying(string message) => this with { Message = message };

    public NamedError RetryAfter(int seconds) => this with { RetryAfterSeconds = seconds };
}

/// <summary>The API's error codes. Clients switch on them, so a code never changes once published.</summary>
public static class ErrorCodes
{
    public const string BadRequest = "BAD_REQUEST";
    public const string InvalidJson = "INVALID_JSON";
    public const string NotFound = "NOT_FOUND";
    public const string MethodNotAllowed = "METHOD_NOT_ALLOWED";
    public const string PayloadTooLarge = "PAYLOAD_TOO_LARGE";
    public const string UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE";
    public const string InternalError = "INTERNAL_ERROR";
    public const string ServiceUnavailable = "SERVICE_UNAVAILABLE";
    public const string ConcurrentUpdate = "CONCURRENT_UPDATE";
    public const string RateLimited = "RATE_LIMITED";
    public const string TooManyDeclines = "TOO_MANY_DECLINES";
    public const string InvalidIdempotencyKey = "INVALID_IDEMPOTENCY_KEY";
    public const string IdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED";
    public const string IdempotencyKeyInUse = "IDEMPOTENCY_KEY_IN_USE";
    public const string CartNotFound = "CART_NOT_FOUND";
    public const string CartVersionConflict = "CART_VERSION_CONFLICT";
    public const string CartCheckedOut = "CART_CHECKED_OUT";
    public const string CartEmpty = "CART_EMPTY";
    public const string CartChanged = "CART_CHANGED";
    public const string CheckoutInProgress = "CHECKOUT_IN_PROGRESS";
    public const string SessionExpired = "SESSION_EXPIRED";
    public const string PaymentDeclined = "PAYMENT_DECLINED";
    public const string PaymentGatewayUnavailable = "PAYMENT_GATEWAY_UNAVAILABLE";
    public const string AuthenticationRequired = "AUTHENTICATION_REQUIRED";
    public const string AuthenticationFailed = "AUTHENTICATION_FAILED";
    public const string OrderNotFound = "ORDER_NOT_FOUND";
    public const string AccountExists = "ACCOUNT_EXISTS";
    public const string InvalidCode = "INVALID_CODE";
    public const string InvalidCredentials = "INVALID_CREDENTIALS";
    public const string Unauthorized = "UNAUTHORIZED";
    public const string UnknownEvent = "UNKNOWN_EVENT";
    public const string InvalidEvent = "INVALID_EVENT";
    public const string InvalidSignature = "INVALID_SIGNATURE";
    public const string FlagNotFound = "FLAG_NOT_FOUND";
}

/// <summary>Every error the API answers with, each with its status and its default message, in one place.</summary>
public static class Errors
{
    public static readonly NamedError BadRequest = new(400, ErrorCodes.BadRequest, "The request is not valid");
    public static readonly NamedError InvalidJson = new(400, ErrorCodes.InvalidJson, "Request body is not valid JSON");
    public static readonly NamedError NotFound = new(404, ErrorCodes.NotFound, "No such resource");
    public static readonly NamedError MethodNotAllowed = new(405, ErrorCodes.MethodNotAllowed, "Method not allowed on this resource");
    public static readonly NamedError PayloadTooLarge = new(413, ErrorCodes.PayloadTooLarge, "Request body is too large");
    public static readonly NamedError UnsupportedMediaType = new(415, ErrorCodes.UnsupportedMediaType, "Send the body as application/json");
    public static readonly NamedError InternalError = new(500, ErrorCodes.InternalError, "Something went wrong on our side. Please try again.");
    public static readonly NamedError ServiceUnavailable = new(503, ErrorCodes.ServiceUnavailable, "Checkout is briefly unavailable. Please try again in a moment.");
    public static readonly NamedError ConcurrentUpdate = new(409, ErrorCodes.ConcurrentUpdate,
        "This was changed in another tab at the same moment. Please try again.", RetryAfterSeconds: 1);
    public static readonly NamedError RateLimited = new(429, ErrorCodes.RateLimited, "Too many requests. Please wait a moment and try again.");
    public static readonly NamedError TooManyDeclines = new(429, ErrorCodes.TooManyDeclines,
        "Too many declined payments. Please wait before trying again, or contact your bank.");
    public static readonly NamedError InvalidIdempotencyKey = new(400, ErrorCodes.InvalidIdempotencyKey,
        "Idempotency-Key must be one value of 1 to 255 printable characters");
    public static readonly NamedError IdempotencyKeyReused = new(422, ErrorCodes.IdempotencyKeyReused,
        "This Idempotency-Key was already used with a different request body. Use a new key for a new request.");
    public static readonly NamedError IdempotencyKeyInUse = new(409, ErrorCodes.IdempotencyKeyInUse,
        "A request with this Idempotency-Key is still being processed. Retry after it completes.", RetryAfterSeconds: 1);
    public static readonly NamedError CartVersionConflict = new(409, ErrorCodes.CartVersionConflict, "The cart changed since you read it. Reload it and try again.");
    public static readonly NamedError SessionExpired = new(404, ErrorCodes.SessionExpired, "Guest session has expired. Please start a new checkout.");
    public static readonly NamedError PaymentDeclined = new(402, ErrorCodes.PaymentDeclined, "Your card was declined. Please use a different payment method.");
    public static readonly NamedError AuthenticationRequired = new(402, ErrorCodes.AuthenticationRequired,
        "Your bank asks you to confirm this payment. Complete the check, then send the same request again.");
    public static readonly NamedError AuthenticationFailed = new(402, ErrorCodes.AuthenticationFailed,
        "Your bank could not confirm this payment, and nothing was charged. Please try again or use a different card.");
    public static readonly NamedError PaymentGatewayUnavailable = new(502, ErrorCodes.PaymentGatewayUnavailable,
        "Payment processing service temporarily unavailable. Please retry.", RetryAfterSeconds: 2);
    public static readonly NamedError OrderNotFound = new(404, ErrorCodes.OrderNotFound, "No order matches this id and confirmation token");
    public static readonly NamedError AccountExists = new(409, ErrorCodes.AccountExists, "An account with this email already exists. Please sign in.");
    public static readonly NamedError InvalidCode = new(422, ErrorCodes.InvalidCode, "This code is wrong, used or expired");
    public static readonly NamedError InvalidCredentials = new(401, ErrorCodes.InvalidCredentials, "Email or password is not right");
    public static readonly NamedError Unauthorized = new(401, ErrorCodes.Unauthorized, "Sign in to see your orders");
    public static readonly NamedError UnknownEvent = new(422, ErrorCodes.UnknownEvent, "Only the checkout funnel's events are accepted");
    public static readonly NamedError InvalidEvent = new(400, ErrorCodes.InvalidEvent, "The payload is signed but is not a Stripe event");
    public static readonly NamedError InvalidSignature = new(400, ErrorCodes.InvalidSignature, "The Stripe-Signature header does not verify this payload");
    public static readonly NamedError FlagNotFound = new(404, ErrorCodes.FlagNotFound, "There is no such flag");

    /// <summary>A decline in the shopper's words, by Stripe's decline code; the generic one for a code not listed.</summary>
    public static NamedError Declined(string? declineCode) => declineCode switch
    {
        "insufficient_funds" => PaymentDeclined.Saying("Your card has insufficient funds. Please use a different card."),
        "expired_card" => PaymentDeclined.Saying("Your card has expired. Please check the expiry date or use a different card."),
        "incorrect_cvc" => PaymentDeclined.Saying("Your card's security code is incorrect. Please check it and try again."),
        "processing_error" => PaymentDeclined.Saying("An error occurred while processing your card. Please try again."),
        _ => PaymentDeclined,
    };

    // The cart's errors name the cart, so the message is made for each.
    public static NamedError CartNotFound(string cartId) => new(404, ErrorCodes.CartNotFound, $"Cart {cartId} does not exist or has expired");

    public static NamedError CartCheckedOut(string cartId) => new(409, ErrorCodes.CartCheckedOut, $"Cart {cartId} has already been checked out");

    public static NamedError CartEmpty(string cartId) => new(422, ErrorCodes.CartEmpty, $"Cart {cartId} is empty");

    public static NamedError CartChanged(Money total) => new(409, ErrorCodes.CartChanged,
        $"Your cart changed since you reviewed it. The total is now ${total}. Please review it and pay again.");

    public static NamedError CheckoutInProgress(string cartId) => new(409, ErrorCodes.CheckoutInProgress,
        $"A checkout of cart {cartId} is already in progress. Please wait for it to finish.", RetryAfterSeconds: 2);
}
