// Placeholder: replaced by the native build step (never fails the install).
process.exit(0);
