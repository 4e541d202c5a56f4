// The HTTP API's documentation (/docs): Swagger UI on kg's own /openapi.json, served from this
// origin and told not to call out (no validator badge, no fonts from elsewhere). "Try it out"
// runs against this server; a write carries the token the portal's header signed in with.
import { errorBox, h, setTitle } from "./ui.js";

const TOKEN_KEY = "kg-token"; // the key api.js keeps the session's write token under

export async function mount(main) {
  setTitle("HTTP API");
  const head = h(
    "header",
    { class: "docs-head" },
    h(
      "div",
      {},
      h("h1", {}, "HTTP API"),
      h(
        "p",
        { class: "muted" },
        "Every route of this kg server, from its OpenAPI document (",
        h("a", { href: "/openapi.json", "data-testid": "openapi-link" }, "/openapi.json"),
        "). “Try it out” sends the request to this server; reads are open, writes use the token you signed in with (",
        h("em", {}, "Sign in to write"),
        ", top right). SPARQL has its own ",
        h("a", { href: "/sparql" }, "workbench"),
        ".",
      ),
    ),
  );
  const host = h("div", { class: "docs-swagger", "data-testid": "api-docs" });
  main.append(head, host);
  const SwaggerUIBundle = window.SwaggerUIBundle;
  if (!SwaggerUIBundle) {
    host.append(h("div", { class: "notice" }, "The API documentation needs the portal's browser libraries: run `make setup`. The document itself is at /openapi.json."));
    return;
  }
  await new Promise((resolve) => {
    SwaggerUIBundle({
      url: new URL("/openapi.json", window.location.origin).href,
      domNode: host,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      deepLinking: true,
      validatorUrl: null, // the badge would ask validator.swagger.io about the document
      withCredentials: false,
      displayRequestDuration: true,
      defaultModelsExpandDepth: 0,
      docExpansion: "list",
      filter: true,
      tryItOutEnabled: false,
      syntaxHighlight: { activated: true, theme: "agate" },
      requestInterceptor: (request) => {
        const token = sessionStorage.getItem(TOKEN_KEY);
        const method = String(request.method || "GET").toUpperCase();
        if (token && method !== "GET" && method !== "HEAD" && sameOrigin(request.url)) {
          request.headers = { ...request.headers, Authorization: `Bearer ${token}` };
        }
        return request;
      },
      onComplete: () => resolve(),
      onFailure: (err) => {
        host.prepend(errorBox(err));
        resolve();
      },
    });
  });
}

function sameOrigin(address) {
  try {
    return new URL(address, window.location.href).origin === window.location.origin;
  } catch {
    return false;
  }
}
