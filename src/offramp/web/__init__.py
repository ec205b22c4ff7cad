"""What every page shares: templates, security headers, body limits and error pages."""
