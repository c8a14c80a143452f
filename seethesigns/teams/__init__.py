"""Teams of a multi-agency hub: who may read a case, and sharing content between teams."""
