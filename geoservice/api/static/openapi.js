// Swagger UI on the service's own API document (served by the service, no CDN).
(function () {
  "use strict";
  var element = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: element.dataset.document, domNode: element, deepLinking: true });
}());
