// Marks the page as able to run GOV.UK Frontend's JavaScript (kept out of inline
// scripts so the Content-Security-Policy can forbid them).
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
