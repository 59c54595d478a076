"""Monthly period close: co-payment invoices, credit notes and the funder's subsidy statements."""
