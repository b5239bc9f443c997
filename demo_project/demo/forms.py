"""The control page's form for the upstream's conditions."""

from django import forms

from .upstream import MAX_LATENCY


class ConditionsForm(forms.Form):
    """Error rate in percent, latency in milliseconds, and the outage switch."""

    error_rate = forms.IntegerField(
        label="Error rate (%)",
        min_value=0,
        max_value=100,
        initial=0,
        help_text="Share of data requests that fail with 500.",
    )
    latency_ms = forms.IntegerField(
        label="Latency (ms)",
        min_value=0,
        max_value=int(MAX_LATENCY * 1000),
        initial=0,
        help_text="Delay before each data response; above the demo's timeout it counts as a timeout.",
    )
    outage = forms.BooleanField(
        label="Outage", required=False, help_text="Every data request fails with 503 at once."
    )

    @classmethod
    def from_conditions(cls, conditions):
        """Build an unbound form showing the upstream's current conditions."""
        return cls(
            initial={
                "error_rate": round(conditions["error_rate"] * 100),
                "latency_ms": round(conditions["latency"] * 1000),
                "outage": conditions["outage"],
            }
        )

    def to_conditions(self):
        """Convert cleaned data to the upstream's units: a fraction and seconds."""
        data = self.cleaned_data
        return {
            "error_rate": data["error_rate"] / 100,
            "latency": data["latency_ms"] / 1000,
            "outage": data["outage"],
        }
