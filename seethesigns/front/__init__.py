"""The nginx front before both interfaces: its configuration and its own pages."""

# The header nginx sets (and empties for every other request, whatever a client sent) on
# requests that came through the HTTPS front: the app's only sign of the front (issue 17).
FRONT_HEADER = "X-SeeTheSigns-Front"
