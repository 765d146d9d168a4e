namespace Provisioning.Coordinator.Api.Users;

// The JSON shapes of the users area (snake_case on the wire); kept together because they only make sense as a set.

internal sealed record CreateUserRequest(string? Username, string? Email, string? Name, string? Role);

internal sealed record UserResponse(Guid Id, string Username, string Email, string Name, string Role, string Status, DateTime CreatedAt);

internal sealed record CreatedUserResponse(UserResponse User, string SessionToken);

internal sealed record CreateTokenRequest(string? Name, long? LifetimeSeconds);

internal sealed record CreatedTokenResponse(string Key, string Name, DateTime ExpiresAt);

internal sealed record LoginRequest(string? Token);

/// <summary>A one-time sign-in link: open <c>path</c> on the server's address in a browser before <c>expires_at</c>.</summary>
internal sealed record SignInLinkResponse(string Path, DateTime ExpiresAt);
