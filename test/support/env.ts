// Runs before every test file: quiet logs, no SDK banner about Node 20 (the Lambda runtime is Node 22+).
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// EMF output off by default; tests that read it build their own Metrics through test/support/powertools.ts.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
