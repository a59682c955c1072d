"""The billing service: charges from completed sessions (coded from the
psychotherapy code table), no-show and late-cancellation fees, sliding scale,
invoices, payments and balances, in exact integer minor units."""
