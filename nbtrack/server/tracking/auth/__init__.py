"""``nbtrack server --auth``: users, tokens and per-resource permissions, as MLflow's basic auth.

``middleware.AuthMiddleware`` authenticates every request (HTTP basic or a
bearer token) and checks the permission its route needs
(``permissions_table``); ``permissions`` holds the rules, ``passwords`` the
credential parsing and the per-process cache, ``routes`` the users-and-grants
API MLflow's ``AuthServiceClient`` speaks. Users and grants live in the
backend store (``nbtrack.store.auth_base.AuthStore``); ``nbtrack server
users`` manages them from the command line.
"""
