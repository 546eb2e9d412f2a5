// Starts GOV.UK Frontend's components (data-module="govuk-…"). Served as
// /static/concord/init.js, so the import resolves to
// /static/govuk-frontend/govuk-frontend.min.js, copied there by infra/frontend/build.sh.
import { initAll } from "../govuk-frontend/govuk-frontend.min.js";

initAll();
