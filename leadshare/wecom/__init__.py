"""WeCom (企业微信): sign-in through the group's WeCom app, and app messages to members."""
