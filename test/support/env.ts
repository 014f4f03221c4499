// Runs before every test file: quiet logs, no SDK banner about Node 20 (the Lambda runtime is Node 22+).
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// EMF output off by default; tests that read it build their own Metrics through test/support/powertools.ts.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
// The fixtures' webhooks are dated 2024, so `npm start` and the Lambda bundles run by tests accept status times
// up to 100 years old. The window's default (30 days before the receipt, 300 s after it) is tested in
// test/unit/status-time-window.test.ts against a fixed receipt time.
process.env.MAX_STATUS_AGE_DAYS ??= '36500';
