"""The units' web pages (Vietnamese, server-rendered): sign-in, the periods, the report form, receipts, history."""
