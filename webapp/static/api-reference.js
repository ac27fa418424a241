// The API reference page: Swagger UI (vendored) on /api/v1/openapi.json. A file of its
// own, not an inline script, so the page keeps the app's script-src 'self'.
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("api-reference");
  window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    persistAuthorization: false,
    tryItOutEnabled: false,
  });
});
