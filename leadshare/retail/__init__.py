"""OEM retail confirmation (issue 17 item 3): the codes each OEM knows a store by, so far."""
