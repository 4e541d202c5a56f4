"""Who may do what: principals and roles (principal), the one acting now (context), the static
tokens (tokens), OIDC bearer tokens (oidc), recognising a request's caller (authenticate) and a
writer's team scope (scope)."""
